/* A TCP and UDP echo server for tests/test_net.py: `net_echo PORT N`
 * echoes N TCP connections (each in its own thread) and UDP datagrams on
 * PORT until the N-th connection has ended, then exits 0. */
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void *echo_conn(void *arg)
{
    int c = (int)(long)arg;
    char buf[65536];
    ssize_t n;
    while ((n = recv(c, buf, sizeof(buf), 0)) > 0) {
        for (ssize_t off = 0; off < n;) {
            ssize_t w = send(c, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
            if (w <= 0)
                goto out;
            off += w;
        }
    }
out:
    close(c);
    return NULL;
}

static void *udp_echo(void *arg)
{
    int u = (int)(long)arg;
    char buf[65536];
    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(u, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        if (n >= 0)
            sendto(u, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: net_echo PORT CONNECTIONS\n");
        return 2;
    }
    int port = atoi(argv[1]), conns = atoi(argv[2]), one = 1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int l = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 16) || bind(u, (struct sockaddr *)&a, sizeof(a))) {
        perror("net_echo: bind/listen");
        return 1;
    }
    printf("net_echo: listening on %d\n", port);
    fflush(stdout);
    pthread_t ut, t[64];
    pthread_create(&ut, NULL, udp_echo, (void *)(long)u);
    int n = 0;
    for (; n < conns && n < 64; n++) {
        int c = accept(l, NULL, NULL);
        if (c < 0) {
            perror("net_echo: accept");
            return 1;
        }
        pthread_create(&t[n], NULL, echo_conn, (void *)(long)c);
    }
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    printf("net_echo: %d connections served\n", n);
    return 0;
}
