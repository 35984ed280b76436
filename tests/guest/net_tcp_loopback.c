/* TCP over 127.0.0.1 between threads of one program: connect/accept,
 * names, bulk transfer both ways at once, shutdown and EOF, non-blocking
 * connect with EINPROGRESS and SO_ERROR, the listen backlog, SO_REUSEADDR
 * after a close, resets (unread data, SO_LINGER 0), EPIPE and SIGPIPE,
 * timeouts, an epoll echo server, and the error paths.
 * osprey: cpus=2 timeout=180 */
#include "check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile uintptr_t bad_addr = 8;
#define BADPTR ((void *)bad_addr)
static volatile sig_atomic_t got_sigpipe;
static void on_sigpipe(int sig) { (void)sig; got_sigpipe++; }

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* A listener on 127.0.0.1 with an ephemeral port; the port in *port. */
static int listener(int backlog, uint16_t *port, int reuse)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (reuse)
        setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse));
    struct sockaddr_in a = loopback(*port);
    if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, backlog)) {
        close(l);
        return -1;
    }
    socklen_t len = sizeof(a);
    getsockname(l, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return l;
}

static int connect_to(uint16_t port, int flags)
{
    int c = socket(AF_INET, SOCK_STREAM | flags, 0);
    struct sockaddr_in a = loopback(port);
    if (connect(c, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS) {
        int e = errno;
        close(c);
        errno = e;
        return -1;
    }
    return c;
}

static ssize_t read_full(int fd, void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = read(fd, (char *)buf + done, n - done);
        if (r <= 0)
            return done ? (ssize_t)done : r;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

static void test_basics(void)
{
    uint16_t port = 0;
    int l = listener(8, &port, 0);
    CHECK(l >= 0 && port != 0, "listen on 127.0.0.1, ephemeral port %u", port);
    int c = connect_to(port, 0);
    CHECK(c >= 0, "blocking connect");
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    int s = accept4(l, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
    CHECK(s >= 0 && plen == sizeof(peer) && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
          "accept4 gives the peer's address");
    CHECK(fcntl(s, F_GETFD) & FD_CLOEXEC, "SOCK_CLOEXEC on the accepted socket");
    struct sockaddr_in cl, sv;
    socklen_t cl_len = sizeof(cl), sv_len = sizeof(sv);
    getsockname(c, (struct sockaddr *)&cl, &cl_len);
    getpeername(s, (struct sockaddr *)&sv, &sv_len);
    CHECK(cl.sin_port == sv.sin_port && cl.sin_port == peer.sin_port, "names agree on both ends");
    plen = sizeof(peer);
    CHECK(getpeername(c, (struct sockaddr *)&peer, &plen) == 0 && ntohs(peer.sin_port) == port,
          "client's peer is the listener's port");
    char buf[256];
    CHECK(send(c, "hello", 5, 0) == 5 && recv(s, buf, sizeof(buf), 0) == 5 && !memcmp(buf, "hello", 5),
          "client to server");
    CHECK(write(s, "world!", 6) == 6 && read_full(c, buf, 6) == 6 && !memcmp(buf, "world!", 6),
          "server to client");
    CHECK(send(c, "peekaboo", 8, 0) == 8, "send for peek");
    sleep_ms(20);
    int n = -1;
    CHECK(ioctl(s, FIONREAD, &n) == 0 && n == 8, "FIONREAD: 8 (%d)", n);
    CHECK(recv(s, buf, 4, MSG_PEEK) == 4 && !memcmp(buf, "peek", 4), "MSG_PEEK");
    CHECK(recv(s, buf, 8, MSG_WAITALL) == 8 && !memcmp(buf, "peekaboo", 8), "the data is still there");
    struct iovec iov[2] = { { "scat", 4 }, { "ter", 3 } };
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
    CHECK(sendmsg(c, &mh, 0) == 7, "sendmsg with two iovecs");
    char a[3], b[4];
    struct iovec riov[2] = { { a, 3 }, { b, 4 } };
    struct msghdr rmh = { .msg_iov = riov, .msg_iovlen = 2 };
    CHECK(recvmsg(s, &rmh, MSG_WAITALL) == 7 && !memcmp(a, "sca", 3) && !memcmp(b, "tter", 4),
          "recvmsg scatters");
    CHECK(shutdown(c, SHUT_WR) == 0, "client SHUT_WR");
    CHECK(recv(s, buf, sizeof(buf), 0) == 0, "server reads EOF");
    CHECK(send(s, "after", 5, 0) == 5 && read_full(c, buf, 5) == 5, "the other direction still works");
    CHECK_ERR(send(c, "x", 1, MSG_NOSIGNAL), EPIPE, "send after SHUT_WR: EPIPE");
    close(s);
    CHECK(recv(c, buf, sizeof(buf), 0) == 0, "client reads EOF after the server closes");
    close(c);
    close(l);
}

struct bulk {
    int fd;
    size_t n;
    uint32_t sum;
};

static void *bulk_writer(void *arg)
{
    struct bulk *b = arg;
    char *buf = malloc(65536);
    size_t done = 0;
    uint32_t sum = 0;
    while (done < b->n) {
        size_t k = b->n - done < 65536 ? b->n - done : 65536;
        for (size_t i = 0; i < k; i++) {
            buf[i] = (char)((done + i) * 31 + 7);
            sum = sum * 33 + (uint8_t)buf[i];
        }
        size_t off = 0;
        while (off < k) {
            ssize_t w = send(b->fd, buf + off, k - off, 0);
            if (w <= 0)
                goto out;
            off += (size_t)w;
        }
        done += k;
    }
out:
    b->sum = sum;
    b->n = done;
    free(buf);
    return NULL;
}

static void *bulk_reader(void *arg)
{
    struct bulk *b = arg;
    char *buf = malloc(65536);
    size_t got = 0;
    uint32_t sum = 0;
    for (;;) {
        ssize_t r = recv(b->fd, buf, 65536, 0);
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r; i++)
            sum = sum * 33 + (uint8_t)buf[i];
        got += (size_t)r;
        if (got >= b->n)
            break;
    }
    b->sum = sum;
    b->n = got;
    free(buf);
    return NULL;
}

static void test_bulk(void)
{
    uint16_t port = 0;
    int l = listener(4, &port, 0);
    int c = connect_to(port, 0);
    int s = accept(l, NULL, NULL);
    const size_t N = 8 << 20;
    struct bulk w1 = { c, N, 0 }, r1 = { s, N, 0 }, w2 = { s, N, 0 }, r2 = { c, N, 0 };
    pthread_t t[4];
    double t0 = now_s();
    pthread_create(&t[0], NULL, bulk_writer, &w1);
    pthread_create(&t[1], NULL, bulk_reader, &r1);
    pthread_create(&t[2], NULL, bulk_writer, &w2);
    pthread_create(&t[3], NULL, bulk_reader, &r2);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    double dt = now_s() - t0;
    CHECK(w1.n == N && r1.n == N && w1.sum == r1.sum, "8 MiB client to server, intact");
    CHECK(w2.n == N && r2.n == N && w2.sum == r2.sum, "8 MiB server to client at the same time, intact");
    printf("#    16 MiB in %.2f s\n", dt);
    close(c);
    close(s);
    close(l);
}

static void test_nonblocking_connect(void)
{
    uint16_t port = 0;
    int l = listener(4, &port, 0);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = loopback(port);
    CHECK_ERR(connect(c, (struct sockaddr *)&a, sizeof(a)), EINPROGRESS, "non-blocking connect: EINPROGRESS");
    struct pollfd pf = { c, POLLOUT, 0 };
    CHECK(poll(&pf, 1, 5000) == 1 && (pf.revents & POLLOUT), "poll: writable once connected");
    int e = -1;
    socklen_t el = sizeof(e);
    CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0, "SO_ERROR: 0");
    int r = connect(c, (struct sockaddr *)&a, sizeof(a));
    CHECK(r == 0 || errno == EISCONN, "connect again: 0 or EISCONN");
    CHECK_ERR(connect(c, (struct sockaddr *)&a, sizeof(a)), EISCONN, "and then EISCONN");
    int s = accept(l, NULL, NULL);
    char buf[8];
    CHECK_ERR(recv(c, buf, sizeof(buf), 0), EAGAIN, "non-blocking recv: EAGAIN");
    close(s);
    close(c);

    /* refused, blocking and not */
    close(l);
    c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_ERR(connect(c, (struct sockaddr *)&a, sizeof(a)), ECONNREFUSED, "no listener: ECONNREFUSED");
    pf.fd = c;
    pf.events = POLLIN | POLLOUT;
    CHECK(poll(&pf, 1, 0) == 1 && (pf.revents & POLLHUP), "refused socket polls POLLHUP (0x%x)", pf.revents);
    CHECK_ERR(connect(c, (struct sockaddr *)&a, sizeof(a)), ECONNREFUSED, "connect again: still refused");
    close(c);
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK_ERR(connect(c, (struct sockaddr *)&a, sizeof(a)), EINPROGRESS, "non-blocking to nobody: EINPROGRESS");
    pf.fd = c;
    pf.events = POLLOUT;
    CHECK(poll(&pf, 1, 5000) == 1 && (pf.revents & (POLLERR | POLLHUP)), "poll reports the failure (0x%x)",
          pf.revents);
    el = sizeof(e);
    CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == ECONNREFUSED, "SO_ERROR: ECONNREFUSED");
    e = -1;
    CHECK(getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0, "SO_ERROR is cleared by reading it");
    close(c);
}

static void test_backlog(void)
{
    uint16_t port = 0;
    int l = listener(1, &port, 0);
    int c1 = connect_to(port, 0), c2 = connect_to(port, 0);
    CHECK(c1 >= 0 && c2 >= 0, "backlog 1: two connections complete (as Linux)");
    int c3 = connect_to(port, SOCK_NONBLOCK);
    struct pollfd pf = { c3, POLLOUT, 0 };
    CHECK(poll(&pf, 1, 300) == 0, "the third waits while the queue is full");
    int s1 = accept(l, NULL, NULL);
    CHECK(poll(&pf, 1, 10000) == 1 && (pf.revents & POLLOUT), "after an accept it gets in");
    int s2 = accept(l, NULL, NULL), s3 = accept(l, NULL, NULL);
    CHECK(s1 >= 0 && s2 >= 0 && s3 >= 0, "three accepted");
    int fl = fcntl(l, F_GETFL);
    fcntl(l, F_SETFL, fl | O_NONBLOCK);
    CHECK_ERR(accept(l, NULL, NULL), EAGAIN, "empty queue, non-blocking accept: EAGAIN");
    close(s1); close(s2); close(s3);
    close(c1); close(c2); close(c3);
    close(l);
}

static void test_reuse(void)
{
    uint16_t port = 0;
    int l = listener(4, &port, 1);
    int x = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(port);
    CHECK_ERR(bind(x, (struct sockaddr *)&a, sizeof(a)), EADDRINUSE, "port in use: EADDRINUSE");
    close(x);
    int c = connect_to(port, 0), s = accept(l, NULL, NULL);
    char b;
    CHECK(send(s, "z", 1, 0) == 1 && recv(c, &b, 1, 0) == 1, "a connection");
    close(s); /* the server closes first: its end waits in TIME_WAIT */
    CHECK(recv(c, &b, 1, 0) == 0, "client sees EOF");
    close(c);
    close(l);
    uint16_t same = port;
    l = listener(4, &same, 1);
    CHECK(l >= 0 && same == port, "SO_REUSEADDR: listening again on the same port at once");
    close(l);
}

static void test_resets(void)
{
    uint16_t port = 0;
    int l = listener(4, &port, 0);
    int c = connect_to(port, 0), s = accept(l, NULL, NULL);
    char buf[64];
    CHECK(send(c, "unread", 6, 0) == 6, "data the server never reads");
    sleep_ms(20);
    close(s);
    sleep_ms(20);
    CHECK_ERR(recv(c, buf, sizeof(buf), 0), ECONNRESET, "close with unread data: peer gets ECONNRESET");
    CHECK(recv(c, buf, sizeof(buf), 0) == 0, "then EOF");
    got_sigpipe = 0;
    CHECK_ERR(send(c, "x", 1, 0), EPIPE, "send on a reset connection: EPIPE");
    CHECK(got_sigpipe == 1, "... with SIGPIPE");
    CHECK_ERR(send(c, "x", 1, MSG_NOSIGNAL), EPIPE, "MSG_NOSIGNAL: EPIPE");
    CHECK(got_sigpipe == 1, "... without SIGPIPE");
    socklen_t pl = sizeof(buf);
    CHECK_ERR(getpeername(c, (struct sockaddr *)buf, &pl), ENOTCONN, "getpeername after the reset: ENOTCONN");
    close(c);

    c = connect_to(port, 0);
    s = accept(l, NULL, NULL);
    struct linger lg = { 1, 0 };
    CHECK(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0, "SO_LINGER {1, 0}");
    close(s);
    sleep_ms(20);
    CHECK_ERR(recv(c, buf, sizeof(buf), 0), ECONNRESET, "linger 0 close resets the peer");
    close(c);

    /* the peer closes normally; writing on gets EPIPE once the reset comes back */
    c = connect_to(port, 0);
    s = accept(l, NULL, NULL);
    close(s);
    CHECK(recv(c, buf, sizeof(buf), 0) == 0, "EOF");
    ssize_t w = 0;
    int tries = 0;
    while (tries++ < 100 && (w = send(c, "x", 1, MSG_NOSIGNAL)) == 1)
        sleep_ms(10);
    CHECK(w == -1 && errno == EPIPE, "writing to a closed peer ends in EPIPE");
    close(c);
    close(l);
}

static void test_errors(void)
{
    int t = socket(AF_INET, SOCK_STREAM, 0);
    char buf[16];
    struct pollfd pf = { t, POLLIN | POLLOUT, 0 };
    CHECK(poll(&pf, 1, 0) == 1 && pf.revents == (POLLOUT | POLLHUP), "a fresh socket polls OUT|HUP (0x%x)",
          pf.revents);
    CHECK_ERR(recv(t, buf, 1, 0), ENOTCONN, "recv unconnected: ENOTCONN");
    CHECK_ERR(send(t, "x", 1, MSG_NOSIGNAL), EPIPE, "send unconnected: EPIPE (as Linux)");
    socklen_t l = sizeof(buf);
    CHECK_ERR(getpeername(t, (struct sockaddr *)buf, &l), ENOTCONN, "getpeername: ENOTCONN");
    CHECK_ERR(shutdown(t, SHUT_RDWR), ENOTCONN, "shutdown unconnected: ENOTCONN");
    CHECK_ERR(accept(t, NULL, NULL), EINVAL, "accept without listen: EINVAL");
    struct sockaddr_in a = loopback(0);
    CHECK_ERR(bind(t, (struct sockaddr *)&a, sizeof(a) - 1), EINVAL, "short address: EINVAL");
    CHECK_ERR(bind(t, BADPTR, sizeof(a)), EFAULT, "bad address pointer: EFAULT");
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
    CHECK_ERR(bind(t, (struct sockaddr *)&a6, sizeof(a6)), EAFNOSUPPORT, "an IPv6 address on IPv4: EAFNOSUPPORT");
    struct sockaddr_in far = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x0a0b0c0d) };
    CHECK_ERR(bind(t, (struct sockaddr *)&far, sizeof(far)), EADDRNOTAVAIL, "bind to a foreign address: EADDRNOTAVAIL");
    CHECK(bind(t, (struct sockaddr *)&a, sizeof(a)) == 0, "bind port 0");
    CHECK_ERR(bind(t, (struct sockaddr *)&a, sizeof(a)), EINVAL, "bind twice: EINVAL");
    close(t);
    CHECK_ERR(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT, "TCP socket, UDP protocol: EPROTONOSUPPORT");
    int s6 = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK(s6 >= 0 || errno == EAFNOSUPPORT, "AF_INET6 works, or fails with EAFNOSUPPORT");
    if (s6 >= 0)
        close(s6);

    uint16_t port = 0;
    int lst = listener(2, &port, 0);
    int c = connect_to(port, 0), s = accept(lst, NULL, NULL);
    CHECK_ERR(listen(c, 1), EINVAL, "listen on a connected socket: EINVAL");
    struct sockaddr_in la = loopback(port);
    CHECK_ERR(connect(c, (struct sockaddr *)&la, sizeof(la)), EISCONN, "connect a connected socket: EISCONN");
    CHECK_ERR(connect(lst, (struct sockaddr *)&la, sizeof(la)), EISCONN, "connect a listener: EISCONN");
    CHECK_ERR(recv(lst, buf, 1, 0), ENOTCONN, "recv on a listener: ENOTCONN");
    CHECK_ERR(send(c, BADPTR, 1, MSG_NOSIGNAL), EFAULT, "send from a bad pointer: EFAULT");
    CHECK(write(c, "abc", 3) == 3, "write");
    CHECK_ERR(recv(s, BADPTR, 3, 0), EFAULT, "recv into a bad pointer: EFAULT");
    struct timeval tv = { 0, 100000 };
    CHECK(setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0, "SO_RCVTIMEO 100 ms");
    double t0 = now_s();
    CHECK_ERR(recv(c, buf, 1, 0), EAGAIN, "the receive times out: EAGAIN");
    CHECK(now_s() - t0 >= 0.09, "after 100 ms");
    close(c);
    close(s);
    close(lst);

    /* connecting to 0.0.0.0 reaches this host */
    port = 0;
    lst = listener(2, &port, 0);
    c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(port) };
    int rl = connect(c, (struct sockaddr *)&any, sizeof(any));
    CHECK(rl == 0 || errno == ECONNREFUSED, "connect to 0.0.0.0 (loopback listener)");
    close(c);
    close(lst);
}

/* ---- an epoll echo server and many clients ---- */

struct echo_server {
    int l;
    int clients;
};

static void *echo_main(void *arg)
{
    struct echo_server *es = arg;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = es->l };
    epoll_ctl(ep, EPOLL_CTL_ADD, es->l, &ev);
    int done = 0;
    while (done < es->clients) {
        struct epoll_event out[16];
        int n = epoll_wait(ep, out, 16, 10000);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++) {
            int fd = out[i].data.fd;
            if (fd == es->l) {
                int s;
                while ((s = accept4(es->l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    struct epoll_event cev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = s };
                    epoll_ctl(ep, EPOLL_CTL_ADD, s, &cev);
                }
                continue;
            }
            char buf[512];
            ssize_t r;
            while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
                send(fd, buf, (size_t)r, MSG_NOSIGNAL);
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                close(fd);
                done++;
            }
        }
    }
    close(ep);
    return NULL;
}

static void test_epoll_server(void)
{
    uint16_t port = 0;
    struct echo_server es = { listener(64, &port, 0), 20 };
    fcntl(es.l, F_SETFL, O_NONBLOCK);
    pthread_t t;
    pthread_create(&t, NULL, echo_main, &es);
    int ok = 0;
    int fds[20];
    for (int i = 0; i < 20; i++)
        fds[i] = connect_to(port, 0);
    for (int i = 0; i < 20; i++) {
        char msg[32], back[32];
        int len = snprintf(msg, sizeof(msg), "client %d says hi", i);
        if (send(fds[i], msg, (size_t)len, 0) == len && read_full(fds[i], back, (size_t)len) == len &&
            !memcmp(msg, back, (size_t)len))
            ok++;
    }
    for (int i = 0; i < 20; i++)
        close(fds[i]);
    pthread_join(t, NULL);
    CHECK(ok == 20, "epoll echo server answered %d of 20 clients", ok);
    close(es.l);
}

static void test_options(void)
{
    int t = socket(AF_INET, SOCK_STREAM, 0);
    int v = 1, got = 0;
    socklen_t l = sizeof(got);
    CHECK(setsockopt(t, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) == 0 &&
          getsockopt(t, IPPROTO_TCP, TCP_NODELAY, &got, &l) == 0 && got == 1, "TCP_NODELAY");
    v = 30;
    l = sizeof(got);
    CHECK(setsockopt(t, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)) == 0 &&
          getsockopt(t, IPPROTO_TCP, TCP_KEEPIDLE, &got, &l) == 0 && got == 30, "TCP_KEEPIDLE");
    v = 0;
    CHECK_ERR(setsockopt(t, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v)), EINVAL, "TCP_KEEPINTVL 0: EINVAL");
    v = 1;
    l = sizeof(got);
    CHECK(setsockopt(t, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)) == 0 &&
          getsockopt(t, SOL_SOCKET, SO_KEEPALIVE, &got, &l) == 0 && got == 1, "SO_KEEPALIVE");
    l = sizeof(got);
    CHECK(getsockopt(t, SOL_SOCKET, SO_TYPE, &got, &l) == 0 && got == SOCK_STREAM, "SO_TYPE");
    l = sizeof(got);
    CHECK(getsockopt(t, SOL_SOCKET, SO_PROTOCOL, &got, &l) == 0 && got == IPPROTO_TCP, "SO_PROTOCOL");
    l = sizeof(got);
    CHECK(getsockopt(t, SOL_SOCKET, SO_DOMAIN, &got, &l) == 0 && got == AF_INET, "SO_DOMAIN");
    v = 0x10;
    l = sizeof(got);
    CHECK(setsockopt(t, IPPROTO_IP, IP_TOS, &v, sizeof(v)) == 0 &&
          getsockopt(t, IPPROTO_IP, IP_TOS, &got, &l) == 0 && got == 0x10, "IP_TOS");
    struct tcp_info ti;
    l = sizeof(ti);
    CHECK(getsockopt(t, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0 && ti.tcpi_state == 7, "TCP_INFO: closed");
    CHECK_ERR(getsockopt(t, IPPROTO_TCP, 9999, &got, &l), ENOPROTOOPT, "unknown TCP option: ENOPROTOOPT");
    close(t);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, on_sigpipe);
    test_basics();
    test_bulk();
    test_nonblocking_connect();
    test_backlog();
    test_reuse();
    test_resets();
    test_errors();
    test_epoll_server();
    test_options();
    return check_exit();
}
