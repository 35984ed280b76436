/* An HTTP/1.0 client for tests/test_net.py: `net_http_get ADDR PORT PATH`
 * fetches PATH and prints the body's length and FNV-1a hash, so the host
 * can compare it with the file it served. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: net_http_get ADDR PORT PATH\n");
        return 2;
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
    if (inet_pton(AF_INET, argv[1], &a.sin_addr) != 1)
        return 2;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&a, sizeof(a))) {
        perror("net_http_get: connect");
        return 1;
    }
    char req[512];
    int len = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", argv[3], argv[1]);
    if (send(s, req, (size_t)len, 0) != len)
        return 1;
    static char buf[65536];
    unsigned long long h = 1469598103934665603ULL, body = 0;
    int state = 0; /* bytes of "\r\n\r\n" seen */
    ssize_t n;
    while ((n = recv(s, buf, sizeof(buf), 0)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)buf[i];
            if (state < 4) {
                state = c == "\r\n\r\n"[state] ? state + 1 : c == '\r';
                continue;
            }
            h = (h ^ c) * 1099511628211ULL;
            body++;
        }
    }
    if (n < 0) {
        perror("net_http_get: recv");
        return 1;
    }
    printf("body %llu fnv %016llx\n", body, h);
    return 0;
}
