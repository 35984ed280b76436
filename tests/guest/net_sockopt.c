/* Socket options on AF_UNIX, TCP and UDP sockets: the SOL_SOCKET ones every
 * socket has (types, buffers and their Linux doubling and minimums, linger,
 * timeouts, low-water marks, credentials), TCP and IP levels, option lengths,
 * unknown levels and names, and send timeouts in action.
 * osprey: cpus=1 timeout=60 */
#include "check.h"

#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile uintptr_t bad_addr = 8;
#define BADPTR ((void *)bad_addr)

static int geti(int fd, int level, int name)
{
    int v = -12345;
    socklen_t l = sizeof(v);
    if (getsockopt(fd, level, name, &v, &l) != 0 || l != sizeof(v))
        return -12345;
    return v;
}

static int seti(int fd, int level, int name, int v)
{
    return setsockopt(fd, level, name, &v, sizeof(v));
}

static void common_options(const char *what, int fd, int type, int domain, int protocol)
{
    CHECK(geti(fd, SOL_SOCKET, SO_TYPE) == type, "%s: SO_TYPE", what);
    CHECK(geti(fd, SOL_SOCKET, SO_DOMAIN) == domain, "%s: SO_DOMAIN", what);
    CHECK(geti(fd, SOL_SOCKET, SO_PROTOCOL) == protocol, "%s: SO_PROTOCOL", what);
    CHECK(geti(fd, SOL_SOCKET, SO_ERROR) == 0, "%s: SO_ERROR 0", what);
    CHECK(geti(fd, SOL_SOCKET, SO_ACCEPTCONN) == 0, "%s: SO_ACCEPTCONN 0", what);
    CHECK(seti(fd, SOL_SOCKET, SO_REUSEADDR, 1) == 0 && geti(fd, SOL_SOCKET, SO_REUSEADDR) == 1,
          "%s: SO_REUSEADDR", what);
    CHECK(seti(fd, SOL_SOCKET, SO_KEEPALIVE, 1) == 0 && geti(fd, SOL_SOCKET, SO_KEEPALIVE) == 1,
          "%s: SO_KEEPALIVE", what);
    CHECK(seti(fd, SOL_SOCKET, SO_SNDBUF, 10000) == 0 && geti(fd, SOL_SOCKET, SO_SNDBUF) == 20000,
          "%s: SO_SNDBUF doubles", what);
    CHECK(seti(fd, SOL_SOCKET, SO_RCVBUF, 10000) == 0 && geti(fd, SOL_SOCKET, SO_RCVBUF) == 20000,
          "%s: SO_RCVBUF doubles", what);
    CHECK(seti(fd, SOL_SOCKET, SO_SNDBUF, 1) == 0 && geti(fd, SOL_SOCKET, SO_SNDBUF) == 4608,
          "%s: SO_SNDBUF minimum 4608", what);
    CHECK(seti(fd, SOL_SOCKET, SO_RCVBUF, 1) == 0 && geti(fd, SOL_SOCKET, SO_RCVBUF) == 2304,
          "%s: SO_RCVBUF minimum 2304", what);
    CHECK(seti(fd, SOL_SOCKET, SO_RCVLOWAT, 0) == 0 && geti(fd, SOL_SOCKET, SO_RCVLOWAT) == 1,
          "%s: SO_RCVLOWAT 0 reads 1", what);
    CHECK(geti(fd, SOL_SOCKET, SO_SNDLOWAT) == 1, "%s: SO_SNDLOWAT 1", what);
    CHECK_ERR(seti(fd, SOL_SOCKET, SO_SNDLOWAT, 5), ENOPROTOOPT, "%s: SO_SNDLOWAT is fixed", what);
    CHECK(seti(fd, SOL_SOCKET, SO_PRIORITY, 6) == 0 && geti(fd, SOL_SOCKET, SO_PRIORITY) == 6,
          "%s: SO_PRIORITY", what);
    struct linger lg = { 1, 7 };
    socklen_t ll = sizeof(lg);
    CHECK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0, "%s: set SO_LINGER", what);
    lg.l_onoff = lg.l_linger = 0;
    CHECK(getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &ll) == 0 && ll == sizeof(lg) && lg.l_onoff == 1 &&
          lg.l_linger == 7, "%s: SO_LINGER reads back", what);
    struct timeval tv = { 2, 500000 }, back;
    socklen_t tl = sizeof(back);
    CHECK(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0 &&
          getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &back, &tl) == 0 && back.tv_sec == 2 &&
          back.tv_usec >= 500000 && back.tv_usec < 510000, "%s: SO_SNDTIMEO reads back", what);
    tv.tv_usec = 1000000;
    CHECK_ERR(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), EDOM, "%s: usec 1000000: EDOM", what);
    CHECK_ERR(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, 4), EINVAL, "%s: short timeval: EINVAL", what);
    CHECK_ERR(seti(fd, SOL_SOCKET, SO_TYPE, 1), ENOPROTOOPT, "%s: SO_TYPE is read-only", what);
    CHECK_ERR(seti(fd, SOL_SOCKET, SO_ERROR, 1), ENOPROTOOPT, "%s: SO_ERROR is read-only", what);
    CHECK_ERR(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &tv, 2), EINVAL, "%s: optlen 2: EINVAL", what);
    CHECK_ERR(seti(fd, SOL_SOCKET, 9999, 1), ENOPROTOOPT, "%s: unknown option: ENOPROTOOPT", what);
    short small = 0;
    socklen_t sl = sizeof(small);
    CHECK(getsockopt(fd, SOL_SOCKET, SO_TYPE, &small, &sl) == 0 && sl == 2 && small == type,
          "%s: a 2-byte buffer gets 2 bytes", what);
    sl = (socklen_t)-1;
    CHECK_ERR(getsockopt(fd, SOL_SOCKET, SO_TYPE, &small, &sl), EINVAL, "%s: negative optlen: EINVAL", what);
    sl = sizeof(int);
    CHECK_ERR(getsockopt(fd, SOL_SOCKET, SO_TYPE, &small, BADPTR), EFAULT, "%s: bad optlen pointer: EFAULT", what);
    CHECK_ERR(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, BADPTR, 4), EFAULT, "%s: bad optval: EFAULT", what);
}

static void test_unix(void)
{
    int u = socket(AF_UNIX, SOCK_STREAM, 0);
    common_options("unix", u, SOCK_STREAM, AF_UNIX, 0);
    CHECK(seti(u, SOL_SOCKET, SO_PASSCRED, 1) == 0 && geti(u, SOL_SOCKET, SO_PASSCRED) == 1, "unix: SO_PASSCRED");
    struct ucred c = { 1, 2, 3 };
    socklen_t cl = sizeof(c);
    CHECK(getsockopt(u, SOL_SOCKET, SO_PEERCRED, &c, &cl) == 0 && c.pid == 0 && c.uid == (uid_t)-1 &&
          c.gid == (gid_t)-1, "unix: SO_PEERCRED unconnected: no peer");
    CHECK_ERR(seti(u, IPPROTO_TCP, TCP_NODELAY, 1), EOPNOTSUPP, "unix: SOL_TCP: EOPNOTSUPP");
    CHECK_ERR(seti(u, IPPROTO_IP, IP_TOS, 1), EOPNOTSUPP, "unix: SOL_IP: EOPNOTSUPP");
    close(u);

    /* a send timeout on a full socket */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct timeval tv = { 0, 100000 };
    setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    static char blob[65536];
    ssize_t w;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rounds = 0;
    while ((w = send(sv[0], blob, sizeof(blob), 0)) > 0 && rounds < 10000)
        rounds++;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(w < 0 && errno == EAGAIN && dt >= 0.09, "SO_SNDTIMEO: a full socket's send times out with EAGAIN");
    close(sv[0]);
    close(sv[1]);
}

static void test_tcp(void)
{
    int t = socket(AF_INET, SOCK_STREAM, 0);
    common_options("tcp", t, SOCK_STREAM, AF_INET, IPPROTO_TCP);
    CHECK(seti(t, IPPROTO_TCP, TCP_NODELAY, 1) == 0 && geti(t, IPPROTO_TCP, TCP_NODELAY) == 1, "TCP_NODELAY");
    CHECK(seti(t, IPPROTO_TCP, TCP_KEEPIDLE, 60) == 0 && geti(t, IPPROTO_TCP, TCP_KEEPIDLE) == 60, "TCP_KEEPIDLE");
    CHECK(seti(t, IPPROTO_TCP, TCP_KEEPINTVL, 5) == 0 && geti(t, IPPROTO_TCP, TCP_KEEPINTVL) == 5, "TCP_KEEPINTVL");
    CHECK(seti(t, IPPROTO_TCP, TCP_KEEPCNT, 3) == 0 && geti(t, IPPROTO_TCP, TCP_KEEPCNT) == 3, "TCP_KEEPCNT");
    CHECK_ERR(seti(t, IPPROTO_TCP, TCP_KEEPIDLE, 32768), EINVAL, "TCP_KEEPIDLE 32768: EINVAL");
    CHECK_ERR(seti(t, IPPROTO_TCP, TCP_KEEPCNT, 128), EINVAL, "TCP_KEEPCNT 128: EINVAL");
    CHECK(geti(t, IPPROTO_TCP, TCP_MAXSEG) > 0, "TCP_MAXSEG");
    CHECK(seti(t, IPPROTO_IP, IP_TOS, 0x13) == 0 && geti(t, IPPROTO_IP, IP_TOS) == 0x10, "TCP: IP_TOS keeps ECN bits out");
    CHECK_ERR(seti(t, IPPROTO_IP, IP_TTL, 0), EINVAL, "IP_TTL 0: EINVAL");
    CHECK(seti(t, IPPROTO_IP, IP_TTL, 9) == 0 && geti(t, IPPROTO_IP, IP_TTL) == 9, "IP_TTL 9");
    CHECK(seti(t, IPPROTO_IP, IP_TTL, -1) == 0 && geti(t, IPPROTO_IP, IP_TTL) == 64, "IP_TTL -1: back to 64");
    CHECK_ERR(seti(t, 12345, 1, 1), ENOPROTOOPT, "TCP: unknown level: ENOPROTOOPT");
    close(t);
}

static void test_udp(void)
{
    int d = socket(AF_INET, SOCK_DGRAM, 0);
    common_options("udp", d, SOCK_DGRAM, AF_INET, IPPROTO_UDP);
    CHECK(seti(d, SOL_SOCKET, SO_BROADCAST, 1) == 0 && geti(d, SOL_SOCKET, SO_BROADCAST) == 1, "SO_BROADCAST");
    CHECK(seti(d, IPPROTO_IP, IP_TOS, 0x13) == 0 && geti(d, IPPROTO_IP, IP_TOS) == 0x13, "UDP: IP_TOS whole");
    CHECK(seti(d, IPPROTO_IP, IP_PKTINFO, 1) == 0 && geti(d, IPPROTO_IP, IP_PKTINFO) == 1, "IP_PKTINFO");
    CHECK(seti(d, IPPROTO_IP, IP_MULTICAST_TTL, 4) == 0 && geti(d, IPPROTO_IP, IP_MULTICAST_TTL) == 4,
          "IP_MULTICAST_TTL");
    CHECK_ERR(seti(d, IPPROTO_TCP, TCP_NODELAY, 1), ENOPROTOOPT, "UDP: SOL_TCP set: ENOPROTOOPT");
    int v;
    socklen_t l = sizeof(v);
    CHECK_ERR(getsockopt(d, IPPROTO_TCP, TCP_NODELAY, &v, &l), EOPNOTSUPP, "UDP: SOL_TCP get: EOPNOTSUPP");
    CHECK_ERR(getsockopt(d, 12345, 1, &v, &l), EOPNOTSUPP, "UDP: unknown level get: EOPNOTSUPP");
    CHECK_ERR(getsockopt(d, IPPROTO_IP, IP_MTU, &v, &l), ENOTCONN, "IP_MTU unconnected: ENOTCONN");
    close(d);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_unix();
    test_tcp();
    test_udp();
    return check_exit();
}
