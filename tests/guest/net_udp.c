/* UDP over 127.0.0.1: sendto/recvfrom with addresses, message boundaries,
 * truncation, MSG_PEEK, FIONREAD, connected sockets and their filtering,
 * disconnect, IP_PKTINFO, sendmmsg/recvmmsg, large datagrams, a thread
 * ping-pong, timeouts and the error paths.
 * osprey: cpus=2 timeout=120 */
#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile uintptr_t bad_addr = 8;
#define BADPTR ((void *)bad_addr)

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* A UDP socket bound to 127.0.0.1 on an ephemeral port. */
static int udp_bound(struct sockaddr_in *a)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    *a = loopback(0);
    socklen_t l = sizeof(*a);
    if (bind(s, (struct sockaddr *)a, sizeof(*a)) || getsockname(s, (struct sockaddr *)a, &l))
        return -1;
    return s;
}

static void test_basic(void)
{
    struct sockaddr_in ax, ay, from;
    int x = udp_bound(&ax), y = udp_bound(&ay);
    CHECK(x >= 0 && y >= 0 && ax.sin_port != ay.sin_port, "two bound UDP sockets");
    char buf[128];
    CHECK(sendto(x, "first", 5, 0, (struct sockaddr *)&ay, sizeof(ay)) == 5 &&
          sendto(x, "second!", 7, 0, (struct sockaddr *)&ay, sizeof(ay)) == 7, "two datagrams");
    int n = -1;
    struct pollfd pf = { y, POLLIN, 0 };
    CHECK(poll(&pf, 1, 2000) == 1, "poll: readable");
    CHECK(ioctl(y, FIONREAD, &n) == 0 && n == 5, "FIONREAD: the first datagram's size (%d)", n);
    socklen_t fl = sizeof(from);
    CHECK(recvfrom(y, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) == 5 && fl == sizeof(from) &&
          from.sin_port == ax.sin_port && from.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
          "recvfrom: data and the sender's address");
    CHECK(recv(y, buf, 3, MSG_PEEK) == 3 && !memcmp(buf, "sec", 3), "MSG_PEEK");
    struct iovec iov = { buf, 3 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    CHECK(recvmsg(y, &mh, 0) == 3 && (mh.msg_flags & MSG_TRUNC), "truncated: MSG_TRUNC");
    CHECK_ERR(recv(y, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN, "the rest was dropped: EAGAIN");
    CHECK(sendto(x, "longer", 6, 0, (struct sockaddr *)&ay, sizeof(ay)) == 6 &&
          recv(y, buf, 2, MSG_TRUNC) == 6, "recv MSG_TRUNC returns the real length");
    CHECK(sendto(x, "", 0, 0, (struct sockaddr *)&ay, sizeof(ay)) == 0 && recv(y, buf, sizeof(buf), 0) == 0,
          "an empty datagram");
    pf.fd = x;
    pf.events = POLLOUT | POLLIN;
    CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLOUT, "idle UDP socket: POLLOUT only");

    /* connected sockets only hear from their peer */
    int z = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(connect(y, (struct sockaddr *)&ax, sizeof(ax)) == 0, "connect y to x");
    struct sockaddr_in p;
    socklen_t pl = sizeof(p);
    CHECK(getpeername(y, (struct sockaddr *)&p, &pl) == 0 && p.sin_port == ax.sin_port, "getpeername");
    CHECK(sendto(z, "stranger", 8, 0, (struct sockaddr *)&ay, sizeof(ay)) == 8, "a stranger sends to y");
    CHECK(send(x, "friend", 6, MSG_DONTWAIT) < 0 && errno == EDESTADDRREQ, "x unconnected: EDESTADDRREQ");
    CHECK(sendto(x, "friend", 6, 0, (struct sockaddr *)&ay, sizeof(ay)) == 6, "x sends to y");
    CHECK(recv(y, buf, sizeof(buf), 0) == 6 && !memcmp(buf, "friend", 6), "y hears only its peer");
    CHECK(send(y, "reply", 5, 0) == 5 && recv(x, buf, sizeof(buf), 0) == 5, "send on the connected socket");
    struct sockaddr_in un = { .sin_family = AF_UNSPEC };
    CHECK(connect(y, (struct sockaddr *)&un, sizeof(un)) == 0, "connect AF_UNSPEC dissolves it");
    CHECK_ERR(send(y, "x", 1, 0), EDESTADDRREQ, "then send: EDESTADDRREQ");
    pl = sizeof(p);
    CHECK_ERR(getpeername(y, (struct sockaddr *)&p, &pl), ENOTCONN, "getpeername: ENOTCONN");
    close(x);
    close(y);
    close(z);
}

static void test_pktinfo_and_mmsg(void)
{
    struct sockaddr_in ax, ay;
    int x = udp_bound(&ax), y = udp_bound(&ay);
    int on = 1;
    CHECK(setsockopt(y, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) == 0, "IP_PKTINFO on");
    sendto(x, "pi", 2, 0, (struct sockaddr *)&ay, sizeof(ay));
    char buf[16], cbuf[128];
    struct iovec iov = { buf, sizeof(buf) };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
    CHECK(recvmsg(y, &mh, 0) == 2, "recvmsg");
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    struct in_pktinfo pi = { 0 };
    if (cm && cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO)
        memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
    CHECK(cm && cm->cmsg_type == IP_PKTINFO && pi.ipi_addr.s_addr == htonl(INADDR_LOOPBACK) && pi.ipi_ifindex > 0,
          "IP_PKTINFO: destination 127.0.0.1 on an interface");

    struct mmsghdr mm[3];
    struct iovec iv[3] = { { "a", 1 }, { "bb", 2 }, { "ccc", 3 } };
    memset(mm, 0, sizeof(mm));
    for (int i = 0; i < 3; i++) {
        mm[i].msg_hdr.msg_iov = &iv[i];
        mm[i].msg_hdr.msg_iovlen = 1;
        mm[i].msg_hdr.msg_name = &ay;
        mm[i].msg_hdr.msg_namelen = sizeof(ay);
    }
    CHECK(sendmmsg(x, mm, 3, 0) == 3, "sendmmsg three");
    char r[3][8];
    struct iovec rv[3] = { { r[0], 8 }, { r[1], 8 }, { r[2], 8 } };
    struct mmsghdr rm[3];
    memset(rm, 0, sizeof(rm));
    for (int i = 0; i < 3; i++) {
        rm[i].msg_hdr.msg_iov = &rv[i];
        rm[i].msg_hdr.msg_iovlen = 1;
    }
    struct pollfd pf = { y, POLLIN, 0 };
    poll(&pf, 1, 2000);
    int got = recvmmsg(y, rm, 3, MSG_WAITFORONE, NULL);
    int total = got;
    while (got > 0 && total < 3) {
        poll(&pf, 1, 2000);
        got = recvmmsg(y, rm + total, (unsigned)(3 - total), MSG_DONTWAIT, NULL);
        if (got > 0)
            total += got;
    }
    CHECK(total == 3 && rm[0].msg_len == 1 && rm[2].msg_len == 3 && !memcmp(r[2], "ccc", 3), "recvmmsg three");

    size_t big = 60000;
    char *data = malloc(big), *back = malloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (char)(i * 13);
    CHECK(sendto(x, data, big, 0, (struct sockaddr *)&ay, sizeof(ay)) == (ssize_t)big, "a 60000-byte datagram");
    CHECK(recv(y, back, big, 0) == (ssize_t)big && !memcmp(data, back, big), "arrives whole");
    CHECK_ERR(sendto(x, data, 70000, 0, (struct sockaddr *)&ay, sizeof(ay)), EMSGSIZE, "70000 bytes: EMSGSIZE");
    free(data);
    free(back);
    close(x);
    close(y);
}

static void *pong(void *arg)
{
    int s = *(int *)arg;
    char buf[64];
    struct sockaddr_in from;
    for (int i = 0; i < 200; i++) {
        socklen_t fl = sizeof(from);
        ssize_t r = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        if (r <= 0)
            break;
        sendto(s, buf, (size_t)r, 0, (struct sockaddr *)&from, fl);
    }
    return NULL;
}

static void test_pingpong(void)
{
    struct sockaddr_in as, ac;
    int s = udp_bound(&as), c = udp_bound(&ac);
    pthread_t t;
    pthread_create(&t, NULL, pong, &s);
    connect(c, (struct sockaddr *)&as, sizeof(as));
    int ok = 0;
    for (int i = 0; i < 200; i++) {
        char msg[16], back[16];
        int len = snprintf(msg, sizeof(msg), "ping %d", i);
        if (send(c, msg, (size_t)len, 0) == len && recv(c, back, sizeof(back), 0) == len && !memcmp(msg, back, (size_t)len))
            ok++;
    }
    pthread_join(t, NULL);
    CHECK(ok == 200, "200 ping-pongs between threads (%d)", ok);
    close(s);
    close(c);
}

static void test_errors(void)
{
    struct sockaddr_in a;
    int x = udp_bound(&a);
    int y = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_ERR(bind(y, (struct sockaddr *)&a, sizeof(a)), EADDRINUSE, "port in use: EADDRINUSE");
    close(y);
    int r1 = socket(AF_INET, SOCK_DGRAM, 0), r2 = socket(AF_INET, SOCK_DGRAM, 0), on = 1;
    setsockopt(r1, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    setsockopt(r2, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    struct sockaddr_in ra = loopback(0);
    socklen_t rl = sizeof(ra);
    bind(r1, (struct sockaddr *)&ra, sizeof(ra));
    getsockname(r1, (struct sockaddr *)&ra, &rl);
    CHECK(bind(r2, (struct sockaddr *)&ra, sizeof(ra)) == 0, "SO_REUSEADDR on both: the same port twice");
    close(r1);
    close(r2);
    char buf[8];
    CHECK_ERR(recv(x, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN, "nothing queued: EAGAIN");
    struct timeval tv = { 0, 100000 };
    setsockopt(x, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    CHECK_ERR(recv(x, buf, sizeof(buf), 0), EAGAIN, "SO_RCVTIMEO: EAGAIN");
    CHECK_ERR(sendto(x, BADPTR, 4, 0, (struct sockaddr *)&a, sizeof(a)), EFAULT, "bad buffer: EFAULT");
    CHECK_ERR(sendto(x, "x", 1, 0, BADPTR, sizeof(a)), EFAULT, "bad address: EFAULT");
    CHECK_ERR(sendto(x, "x", 1, 0, (struct sockaddr *)&a, 3), EINVAL, "short address: EINVAL");
    CHECK_ERR(listen(x, 1), EOPNOTSUPP, "listen on UDP: EOPNOTSUPP");
    CHECK_ERR(accept(x, NULL, NULL), EOPNOTSUPP, "accept on UDP: EOPNOTSUPP");
    CHECK_ERR(shutdown(x, SHUT_RD), ENOTCONN, "shutdown unconnected UDP: ENOTCONN");
    int v = 0;
    socklen_t vl = sizeof(v);
    CHECK(getsockopt(x, SOL_SOCKET, SO_TYPE, &v, &vl) == 0 && v == SOCK_DGRAM, "SO_TYPE");
    vl = sizeof(v);
    CHECK(getsockopt(x, SOL_SOCKET, SO_PROTOCOL, &v, &vl) == 0 && v == IPPROTO_UDP, "SO_PROTOCOL");
    close(x);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_basic();
    test_pktinfo_and_mmsg();
    test_pingpong();
    test_errors();
    return check_exit();
}
