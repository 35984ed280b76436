/* AF_UNIX sockets: socketpair of every type, filesystem and abstract names,
 * autobind, listen backlog, accept4 flags, EOF/EPIPE/ECONNRESET, shutdown,
 * SCM_RIGHTS and SCM_CREDENTIALS, SO_PEERCRED, MSG_PEEK/WAITALL/TRUNC,
 * timeouts, signals, poll and epoll readiness, and the error paths.
 * osprey: cpus=2 timeout=120 */
#include "check.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef SIOCINQ
#define SIOCINQ FIONREAD
#endif
#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif

/* An address nothing is mapped at, hidden from the compiler's checks. */
static volatile uintptr_t bad_addr = 8;
#define BADPTR ((void *)bad_addr)

static volatile sig_atomic_t got_sigpipe, got_sigusr1;

static void on_sigpipe(int sig) { (void)sig; got_sigpipe++; }
static void on_sigusr1(int sig) { (void)sig; got_sigusr1++; }

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

static socklen_t path_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, path);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path + 1, name, strlen(name));
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

static void test_pairs(void)
{
    int sv[2];
    char buf[64];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair stream");
    CHECK(write(sv[0], "hello", 5) == 5 && read(sv[1], buf, sizeof(buf)) == 5 && !memcmp(buf, "hello", 5),
          "stream pair carries bytes");
    CHECK(send(sv[1], "ab", 2, 0) == 2 && send(sv[1], "cd", 2, 0) == 2, "two sends");
    sleep_ms(10);
    CHECK(recv(sv[0], buf, sizeof(buf), 0) == 4 && !memcmp(buf, "abcd", 4), "stream reads join writes");
    close(sv[1]);
    CHECK(read(sv[0], buf, sizeof(buf)) == 0, "EOF after the peer closes");
    got_sigpipe = 0;
    CHECK_ERR(write(sv[0], "x", 1), EPIPE, "write to a closed peer: EPIPE");
    CHECK(got_sigpipe == 1, "... and SIGPIPE");
    CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE, "MSG_NOSIGNAL: EPIPE");
    CHECK(got_sigpipe == 1, "... without SIGPIPE");
    close(sv[0]);

    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair for reset");
    CHECK(write(sv[0], "unread", 6) == 6, "data the peer never reads");
    close(sv[1]);
    CHECK_ERR(read(sv[0], buf, sizeof(buf)), ECONNRESET, "closing with unread data resets the peer");
    CHECK(read(sv[0], buf, sizeof(buf)) == 0, "then EOF");
    close(sv[0]);

    CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair dgram");
    CHECK(send(sv[0], "one", 3, 0) == 3 && send(sv[0], "second", 6, 0) == 6, "two datagrams");
    CHECK(recv(sv[1], buf, sizeof(buf), 0) == 3 && recv(sv[1], buf, sizeof(buf), 0) == 6,
          "datagram boundaries kept");
    CHECK(send(sv[0], "truncated", 9, 0) == 9, "a long datagram");
    struct iovec iov = { buf, 4 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    CHECK(recvmsg(sv[1], &mh, 0) == 4 && (mh.msg_flags & MSG_TRUNC), "short buffer: MSG_TRUNC in msg_flags");
    CHECK(send(sv[0], "truncated", 9, 0) == 9 && recv(sv[1], buf, 2, MSG_TRUNC) == 9,
          "recv MSG_TRUNC returns the real length");
    CHECK(send(sv[0], "", 0, 0) == 0 && recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) == 0,
          "an empty datagram");
    CHECK_ERR(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN, "empty queue: EAGAIN");
    close(sv[0]);
    close(sv[1]);

    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0, "socketpair seqpacket");
    CHECK(send(sv[0], "rec1", 4, 0) == 4 && send(sv[0], "record2", 7, 0) == 7, "two records");
    CHECK(recv(sv[1], buf, sizeof(buf), 0) == 4 && recv(sv[1], buf, 3, 0) == 3, "record boundaries, truncation");
    close(sv[0]);
    CHECK(recv(sv[1], buf, sizeof(buf), 0) == 0, "seqpacket EOF");
    close(sv[1]);

    CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM, 0, BADPTR), EFAULT, "socketpair bad pointer: EFAULT");
    CHECK_ERR(socket(AF_UNIX, SOCK_STREAM, 99), EPROTONOSUPPORT, "protocol 99: EPROTONOSUPPORT");
    CHECK_ERR(socket(AF_UNIX, 77, 0), EINVAL, "type 77: EINVAL");
    CHECK_ERR(socket(AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT, "SOCK_RDM: ESOCKTNOSUPPORT");
    CHECK_ERR(socket(AF_UNIX, SOCK_STREAM | 0x100000, 0), EINVAL, "bad type flag: EINVAL");
    CHECK_ERR(socket(1234, SOCK_STREAM, 0), EAFNOSUPPORT, "family 1234: EAFNOSUPPORT");
}

static void test_names(void)
{
    struct sockaddr_un a, got;
    socklen_t len, glen;
    char buf[64];
    unlink("/tmp/u1.sock");
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    len = path_addr(&a, "/tmp/u1.sock");
    CHECK(bind(l, (struct sockaddr *)&a, len) == 0, "bind to a path");
    struct stat st;
    CHECK(stat("/tmp/u1.sock", &st) == 0 && S_ISSOCK(st.st_mode), "bind made a socket node");
    CHECK_ERR(open("/tmp/u1.sock", O_RDWR), ENXIO, "open() on a socket node: ENXIO");
    CHECK_ERR(bind(l, (struct sockaddr *)&a, len), EADDRINUSE, "binding twice to the path: EADDRINUSE");
    struct sockaddr_un a2;
    socklen_t len2 = path_addr(&a2, "/tmp/u1.other");
    CHECK_ERR(bind(l, (struct sockaddr *)&a2, len2), EINVAL, "binding a bound socket again: EINVAL");
    CHECK(access("/tmp/u1.other", F_OK) != 0, "... and no node left behind");
    int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(bind(l2, (struct sockaddr *)&a, len), EADDRINUSE, "path in use: EADDRINUSE");
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ECONNREFUSED, "bound, not listening: ECONNREFUSED");
    CHECK(listen(l, 4) == 0, "listen");
    int v = 0;
    socklen_t vl = sizeof(v);
    CHECK(getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) == 0 && v == 1, "SO_ACCEPTCONN");
    CHECK(connect(c, (struct sockaddr *)&a, len) == 0, "connect to the path");
    CHECK_ERR(connect(c, (struct sockaddr *)&a, len), EISCONN, "connect again: EISCONN");
    glen = sizeof(got);
    CHECK(getpeername(c, (struct sockaddr *)&got, &glen) == 0 && glen == len &&
          !strcmp(got.sun_path, "/tmp/u1.sock"), "getpeername: the listener's path");
    glen = sizeof(got);
    CHECK(getsockname(c, (struct sockaddr *)&got, &glen) == 0 && glen == sizeof(sa_family_t),
          "getsockname of an unbound client: family only");
    struct sockaddr_un peer;
    socklen_t plen = sizeof(peer);
    int s = accept4(l, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    CHECK(s >= 0 && plen == sizeof(sa_family_t), "accept4: unnamed peer");
    CHECK((fcntl(s, F_GETFL) & O_NONBLOCK) && (fcntl(s, F_GETFD) & FD_CLOEXEC), "accept4 flags applied");
    glen = sizeof(got);
    CHECK(getsockname(s, (struct sockaddr *)&got, &glen) == 0 && !strcmp(got.sun_path, "/tmp/u1.sock"),
          "accepted socket's name is the listener's");
    CHECK(write(c, "ping", 4) == 4 && read(s, buf, sizeof(buf)) == 4, "data over the connection");
    CHECK_ERR(read(s, buf, sizeof(buf)), EAGAIN, "non-blocking accepted socket: EAGAIN");
    struct ucred cr;
    socklen_t crl = sizeof(cr);
    CHECK(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &crl) == 0 && crl == sizeof(cr) && cr.pid == getpid() &&
          cr.uid == geteuid() && cr.gid == getegid(), "SO_PEERCRED on the server side");
    crl = sizeof(cr);
    CHECK(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &crl) == 0 && cr.pid == getpid(),
          "SO_PEERCRED on the client side");
    int ds = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_ERR(connect(ds, (struct sockaddr *)&a, len), EPROTOTYPE, "dgram to a stream listener: EPROTOTYPE");
    close(ds);
    close(s);
    close(c);
    close(l);
    close(l2);
    CHECK(stat("/tmp/u1.sock", &st) == 0, "the node outlives the socket");
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ECONNREFUSED, "stale node: ECONNREFUSED");
    unlink("/tmp/u1.sock");
    CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ENOENT, "missing path: ENOENT");
    int fd = open("/tmp/u1.plain", O_CREAT | O_WRONLY, 0644);
    close(fd);
    len = path_addr(&a, "/tmp/u1.plain");
    CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ECONNREFUSED, "regular file: ECONNREFUSED");
    unlink("/tmp/u1.plain");
    close(c);

    /* abstract names and autobind */
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    len = abstract_addr(&a, "osprey-abstract");
    CHECK(bind(l, (struct sockaddr *)&a, len) == 0 && listen(l, 1) == 0, "bind an abstract name");
    l2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(bind(l2, (struct sockaddr *)&a, len), EADDRINUSE, "abstract name in use: EADDRINUSE");
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(connect(c, (struct sockaddr *)&a, len) == 0, "connect to the abstract name");
    glen = sizeof(got);
    s = accept(l, (struct sockaddr *)&got, &glen);
    CHECK(s >= 0, "accept on the abstract listener");
    glen = sizeof(got);
    CHECK(getsockname(s, (struct sockaddr *)&got, &glen) == 0 && glen == len &&
          !memcmp(got.sun_path, a.sun_path, len - 2), "abstract getsockname is exact");
    close(s);
    close(c);
    close(l);
    close(l2);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ECONNREFUSED, "abstract name gone with its socket");
    struct sockaddr_un fam = { .sun_family = AF_UNIX };
    CHECK(bind(c, (struct sockaddr *)&fam, sizeof(sa_family_t)) == 0, "bind with only the family: autobind");
    glen = sizeof(got);
    CHECK(getsockname(c, (struct sockaddr *)&got, &glen) == 0 && glen == 8 && got.sun_path[0] == 0,
          "autobind: NUL and five hex digits");
    close(c);

    c = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_in bad = { .sin_family = AF_INET };
    CHECK_ERR(bind(c, (struct sockaddr *)&bad, sizeof(bad)), EINVAL, "bind an AF_INET address: EINVAL");
    CHECK_ERR(bind(c, (struct sockaddr *)&a, sizeof(a) + 10), EINVAL, "address too long: EINVAL");
    CHECK_ERR(bind(c, BADPTR, len), EFAULT, "bad address pointer: EFAULT");
    CHECK_ERR(listen(c, 1), EINVAL, "listen unbound: EINVAL");
    CHECK_ERR(send(c, "x", 1, 0), ENOTCONN, "send unconnected: ENOTCONN");
    CHECK_ERR(recv(c, buf, 1, 0), EINVAL, "recv unconnected stream: EINVAL");
    glen = sizeof(got);
    CHECK_ERR(getpeername(c, (struct sockaddr *)&got, &glen), ENOTCONN, "getpeername unconnected: ENOTCONN");
    CHECK_ERR(accept(c, NULL, NULL), EINVAL, "accept on a non-listener: EINVAL");
    close(c);
    int dg = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK_ERR(listen(dg, 1), EOPNOTSUPP, "listen on dgram: EOPNOTSUPP");
    CHECK_ERR(send(dg, "x", 1, 0), ENOTCONN, "dgram send without peer: ENOTCONN");
    close(dg);
}

static void test_backlog(void)
{
    struct sockaddr_un a;
    socklen_t len = abstract_addr(&a, "osprey-backlog");
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(bind(l, (struct sockaddr *)&a, len) == 0 && listen(l, 1) == 0, "listener with backlog 1");
    int c[3];
    int ok = 0;
    for (int i = 0; i < 3; i++) {
        c[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (connect(c[i], (struct sockaddr *)&a, len) == 0)
            ok++;
        else
            CHECK(errno == EAGAIN, "connect beyond the backlog: EAGAIN");
    }
    CHECK(ok == 2, "backlog 1 queues two connections (as Linux), got %d", ok);
    int s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    CHECK(s >= 0, "accept one");
    close(s);
    CHECK(connect(c[2], (struct sockaddr *)&a, len) == 0, "accepting made room");
    s = accept(l, NULL, NULL);
    int s2 = accept(l, NULL, NULL);
    CHECK(s >= 0 && s2 >= 0, "accept the rest");
    int nb = fcntl(l, F_GETFL);
    fcntl(l, F_SETFL, nb | O_NONBLOCK);
    CHECK_ERR(accept(l, NULL, NULL), EAGAIN, "empty queue, non-blocking accept: EAGAIN");
    close(s);
    close(s2);
    for (int i = 0; i < 3; i++)
        close(c[i]);
    /* connections never accepted are reset when the listener closes */
    int d = socket(AF_UNIX, SOCK_STREAM, 0);
    fcntl(l, F_SETFL, nb);
    CHECK(connect(d, (struct sockaddr *)&a, len) == 0, "connect, not accepted");
    close(l);
    char b;
    CHECK_ERR(read(d, &b, 1), ECONNRESET, "listener closed: pending connection reset");
    close(d);
}

static int send_fd(int sock, int fd)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof(cbuf));
    struct iovec iov = { "F", 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    return (int)sendmsg(sock, &mh, 0);
}

static void test_scm(void)
{
    int sv[2], p[2];
    char buf[16];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && pipe(p) == 0, "pair and a pipe");
    CHECK(send_fd(sv[0], p[0]) == 1, "sendmsg SCM_RIGHTS");
    close(p[0]);
    char cbuf[CMSG_SPACE(sizeof(int)) + 64];
    struct iovec iov = { buf, sizeof(buf) };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
    CHECK(recvmsg(sv[1], &mh, MSG_CMSG_CLOEXEC) == 1, "recvmsg the descriptor");
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    int nfd = -1;
    CHECK(cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
          cm->cmsg_len == CMSG_LEN(sizeof(int)), "an SCM_RIGHTS header");
    if (cm)
        memcpy(&nfd, CMSG_DATA(cm), sizeof(int));
    CHECK(write(p[1], "via", 3) == 3 && read(nfd, buf, sizeof(buf)) == 3 && !memcmp(buf, "via", 3),
          "the received descriptor is the pipe");
    CHECK(fcntl(nfd, F_GETFD) & FD_CLOEXEC, "MSG_CMSG_CLOEXEC sets close-on-exec");
    close(nfd);

    CHECK(send_fd(sv[0], p[1]) == 1, "send another");
    char small[sizeof(struct cmsghdr)];
    struct msghdr mh2 = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = small, .msg_controllen = sizeof(small) };
    CHECK(recvmsg(sv[1], &mh2, 0) == 1 && (mh2.msg_flags & MSG_CTRUNC), "no room: MSG_CTRUNC");
    CHECK(send_fd(sv[0], 12345) < 0 && errno == EBADF, "sending a bad descriptor: EBADF");
    close(p[1]);

    int on = 1;
    CHECK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == 0, "SO_PASSCRED");
    CHECK(send(sv[0], "c", 1, 0) == 1, "send with credentials");
    mh.msg_controllen = sizeof(cbuf);
    CHECK(recvmsg(sv[1], &mh, 0) == 1, "recvmsg credentials");
    cm = CMSG_FIRSTHDR(&mh);
    struct ucred uc = { 0 };
    if (cm && cm->cmsg_type == SCM_CREDENTIALS)
        memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
    CHECK(cm && cm->cmsg_type == SCM_CREDENTIALS && uc.pid == getpid() && uc.uid == getuid(),
          "SCM_CREDENTIALS: our pid and uid");
    close(sv[0]);
    close(sv[1]);
}

static void test_flags_and_ioctls(void)
{
    int sv[2];
    char buf[64];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    CHECK(write(sv[0], "peekdata", 8) == 8, "write");
    int n = -1;
    CHECK(ioctl(sv[1], SIOCINQ, &n) == 0 && n == 8, "SIOCINQ: 8 unread (%d)", n);
    CHECK(ioctl(sv[0], SIOCOUTQ, &n) == 0 && n > 0, "SIOCOUTQ: bytes still queued");
    CHECK(recv(sv[1], buf, 4, MSG_PEEK) == 4 && !memcmp(buf, "peek", 4), "MSG_PEEK");
    CHECK(recv(sv[1], buf, sizeof(buf), 0) == 8 && !memcmp(buf, "peekdata", 8), "peeked data still there");
    CHECK(ioctl(sv[0], SIOCOUTQ, &n) == 0 && n == 0, "SIOCOUTQ: drained");

    CHECK(shutdown(sv[0], SHUT_WR) == 0, "shutdown SHUT_WR");
    CHECK(read(sv[1], buf, sizeof(buf)) == 0, "peer reads EOF");
    CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE, "writing after SHUT_WR: EPIPE");
    CHECK(write(sv[1], "back", 4) == 4 && read(sv[0], buf, sizeof(buf)) == 4, "the other direction works");
    CHECK_ERR(shutdown(sv[0], 7), EINVAL, "shutdown how 7: EINVAL");
    close(sv[0]);
    close(sv[1]);

    int t, ty = 0, dom = 0, pr = -1;
    socklen_t l = sizeof(int);
    t = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    getsockopt(t, SOL_SOCKET, SO_TYPE, &ty, &l);
    l = sizeof(int);
    getsockopt(t, SOL_SOCKET, SO_DOMAIN, &dom, &l);
    l = sizeof(int);
    getsockopt(t, SOL_SOCKET, SO_PROTOCOL, &pr, &l);
    CHECK(ty == SOCK_SEQPACKET && dom == AF_UNIX && pr == 0, "SO_TYPE, SO_DOMAIN, SO_PROTOCOL");
    int sz = 10000, got = 0;
    l = sizeof(got);
    CHECK(setsockopt(t, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) == 0 &&
          getsockopt(t, SOL_SOCKET, SO_SNDBUF, &got, &l) == 0 && got == 20000, "SO_SNDBUF doubles (%d)", got);
    int e = -1;
    l = sizeof(e);
    CHECK(getsockopt(t, SOL_SOCKET, SO_ERROR, &e, &l) == 0 && e == 0, "SO_ERROR: none");
    CHECK_ERR(setsockopt(t, SOL_SOCKET, SO_TYPE, &sz, sizeof(sz)), ENOPROTOOPT, "set SO_TYPE: ENOPROTOOPT");
    CHECK_ERR(setsockopt(t, SOL_SOCKET, SO_SNDBUF, &sz, 2), EINVAL, "short option: EINVAL");
    CHECK_ERR(getsockopt(t, SOL_SOCKET, 9999, &got, &l), ENOPROTOOPT, "unknown option: ENOPROTOOPT");
    CHECK_ERR(getsockopt(t, SOL_SOCKET, SO_TYPE, BADPTR, &l), EFAULT, "bad option pointer: EFAULT");
    close(t);

    int pf[2];
    pipe(pf);
    CHECK_ERR(recv(pf[0], buf, 1, MSG_DONTWAIT), ENOTSOCK, "recv on a pipe: ENOTSOCK");
    CHECK_ERR(getsockname(pf[0], NULL, NULL), ENOTSOCK, "getsockname on a pipe: ENOTSOCK");
    close(pf[0]);
    close(pf[1]);
    CHECK_ERR(send(9999, "x", 1, 0), EBADF, "send on a closed descriptor: EBADF");
    CHECK_ERR(listen(9999, 1), EBADF, "listen on a closed descriptor: EBADF");

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    CHECK_ERR(send(sv[0], BADPTR, 10, 0), EFAULT, "send from a bad buffer: EFAULT");
    CHECK(write(sv[0], "abc", 3) == 3, "write");
    CHECK_ERR(recv(sv[1], BADPTR, 10, 0), EFAULT, "recv into a bad buffer: EFAULT");
    close(sv[0]);
    close(sv[1]);
}

struct big {
    int fd;
    size_t n;
};

static void *big_writer(void *arg)
{
    struct big *b = arg;
    char *data = malloc(b->n);
    for (size_t i = 0; i < b->n; i++)
        data[i] = (char)(i * 7 + 3);
    size_t done = 0;
    while (done < b->n) {
        ssize_t w = write(b->fd, data + done, b->n - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    free(data);
    return (void *)done;
}

static void *late_writer(void *arg)
{
    sleep_ms(100);
    write(*(int *)arg, "late", 4);
    return NULL;
}

static void *later_writer(void *arg)
{
    sleep_ms(300);
    write(*(int *)arg, "late", 4);
    return NULL;
}

static void *signal_later(void *arg)
{
    sleep_ms(100);
    pthread_kill(*(pthread_t *)arg, SIGUSR1);
    return NULL;
}

static void test_blocking(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct big b = { sv[0], 4 << 20 };
    pthread_t th;
    pthread_create(&th, NULL, big_writer, &b);
    char *buf = malloc(65536);
    size_t got = 0;
    int good = 1;
    while (got < b.n) {
        ssize_t r = read(sv[1], buf, 65536);
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] != (char)((got + (size_t)i) * 7 + 3))
                good = 0;
        got += (size_t)r;
    }
    void *wrote;
    pthread_join(th, &wrote);
    CHECK(got == b.n && (size_t)wrote == b.n && good, "4 MiB through a blocking stream pair, intact");

    pthread_create(&th, NULL, late_writer, &sv[0]);
    char two[8];
    CHECK(recv(sv[1], two, 4, MSG_WAITALL) == 4, "MSG_WAITALL waits for the data");
    pthread_join(th, NULL);

    struct timeval tv = { 0, 150000 };
    CHECK(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0, "SO_RCVTIMEO 150 ms");
    struct timeval back;
    socklen_t bl = sizeof(back);
    CHECK(getsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &back, &bl) == 0 && back.tv_sec == 0 &&
          back.tv_usec >= 150000 && back.tv_usec < 160000, "SO_RCVTIMEO reads back (Linux rounds to ticks)");
    double t0 = now_s();
    CHECK_ERR(read(sv[1], buf, 10), EAGAIN, "receive timeout: EAGAIN");
    double dt = now_s() - t0;
    CHECK(dt >= 0.14 && dt < 5, "after about 150 ms (%.3f s)", dt);
    tv.tv_usec = 0;
    setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

    struct sigaction sa = { .sa_handler = on_sigusr1 };
    sigaction(SIGUSR1, &sa, NULL);
    pthread_t self = pthread_self(), k;
    pthread_create(&k, NULL, signal_later, &self);
    CHECK_ERR(read(sv[1], buf, 10), EINTR, "a signal interrupts a blocked read: EINTR");
    pthread_join(k, NULL);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    got_sigusr1 = 0;
    pthread_create(&k, NULL, signal_later, &self);
    pthread_create(&th, NULL, later_writer, &sv[0]);
    ssize_t r = recv(sv[1], buf, 4, MSG_WAITALL);
    CHECK(r == 4 && got_sigusr1 == 1, "SA_RESTART: the read restarts and completes");
    pthread_join(k, NULL);
    pthread_join(th, NULL);
    free(buf);
    close(sv[0]);
    close(sv[1]);
}

static void test_dgram_names(void)
{
    struct sockaddr_un a, b, from;
    socklen_t la = path_addr(&a, "/tmp/ud.a"), lb = path_addr(&b, "/tmp/ud.b"), fl;
    unlink(a.sun_path);
    unlink(b.sun_path);
    int x = socket(AF_UNIX, SOCK_DGRAM, 0), y = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(bind(x, (struct sockaddr *)&a, la) == 0 && bind(y, (struct sockaddr *)&b, lb) == 0, "bind two dgrams");
    CHECK(sendto(x, "to-b", 4, 0, (struct sockaddr *)&b, lb) == 4, "sendto a path");
    char buf[32];
    fl = sizeof(from);
    CHECK(recvfrom(y, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) == 4 && fl == la &&
          !strcmp(from.sun_path, "/tmp/ud.a"), "recvfrom names the sender");
    int anon = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(sendto(anon, "anon", 4, 0, (struct sockaddr *)&b, lb) == 4, "sendto from an unbound socket");
    fl = sizeof(from);
    CHECK(recvfrom(y, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) == 4 && fl == 0,
          "unnamed sender: address length 0");
    CHECK(connect(anon, (struct sockaddr *)&b, lb) == 0 && send(anon, "c", 1, 0) == 1, "connect and send");
    CHECK(recv(y, buf, sizeof(buf), 0) == 1, "received");
    /* queue limit (a receiver connected to the sender has none) */
    int sent = 0;
    while (sendto(x, "q", 1, MSG_DONTWAIT, (struct sockaddr *)&b, lb) == 1 && sent < 1000)
        sent++;
    CHECK(errno == EAGAIN && sent >= 10 && sent < 1000, "a full datagram queue: EAGAIN after %d", sent);
    struct pollfd pf = { x, POLLOUT, 0 };
    CHECK(poll(&pf, 1, 0) == 1, "x still writable (to others)");
    while (recv(y, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        ;
    /* y connected elsewhere refuses others */
    CHECK(connect(y, (struct sockaddr *)&a, la) == 0, "y connects to x");
    CHECK_ERR(send(anon, "c", 1, 0), EPERM, "y only hears from x now: EPERM");
    /* sendmmsg / recvmmsg */
    struct mmsghdr mm[3];
    struct iovec iv[3] = { { "m1", 2 }, { "mm2", 3 }, { "mmm3", 4 } };
    memset(mm, 0, sizeof(mm));
    for (int i = 0; i < 3; i++) {
        mm[i].msg_hdr.msg_iov = &iv[i];
        mm[i].msg_hdr.msg_iovlen = 1;
        mm[i].msg_hdr.msg_name = &b;
        mm[i].msg_hdr.msg_namelen = lb;
    }
    CHECK(sendmmsg(x, mm, 3, 0) == 3 && mm[2].msg_len == 4, "sendmmsg three");
    char r0[8], r1[8], r2[8];
    struct iovec rv[3] = { { r0, 8 }, { r1, 8 }, { r2, 8 } };
    struct mmsghdr rm[3];
    memset(rm, 0, sizeof(rm));
    for (int i = 0; i < 3; i++) {
        rm[i].msg_hdr.msg_iov = &rv[i];
        rm[i].msg_hdr.msg_iovlen = 1;
    }
    CHECK(recvmmsg(y, rm, 3, MSG_DONTWAIT, NULL) == 3 && rm[0].msg_len == 2 && rm[1].msg_len == 3 &&
          rm[2].msg_len == 4 && !memcmp(r2, "mmm3", 4), "recvmmsg three");
    CHECK(sendto(x, "big", 3, 0, (struct sockaddr *)&b, lb) == 3, "one more");
    char huge[300000];
    CHECK_ERR(sendto(x, huge, sizeof(huge), 0, (struct sockaddr *)&b, lb), EMSGSIZE, "too big: EMSGSIZE");
    close(y);
    CHECK_ERR(sendto(x, "g", 1, 0, (struct sockaddr *)&b, lb), ECONNREFUSED, "receiver gone: ECONNREFUSED");
    close(x);
    close(anon);
    unlink(a.sun_path);
    unlink(b.sun_path);
}

static void test_readiness(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct pollfd pf = { sv[1], POLLIN | POLLOUT | POLLRDHUP, 0 };
    CHECK(poll(&pf, 1, 0) == 1 && pf.revents == POLLOUT, "idle: POLLOUT only (0x%x)", pf.revents);
    write(sv[0], "x", 1);
    CHECK(poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN), "data: POLLIN");
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.fd = sv[1] }, out;
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev) == 0, "epoll add");
    CHECK(epoll_wait(ep, &out, 1, 0) == 1, "epoll sees the data");
    CHECK(epoll_wait(ep, &out, 1, 0) == 0, "edge-triggered: once");
    write(sv[0], "y", 1);
    CHECK(epoll_wait(ep, &out, 1, 1000) == 1 && (out.events & EPOLLIN), "new data: a new edge");
    close(sv[0]);
    CHECK(epoll_wait(ep, &out, 1, 1000) == 1, "hang-up is an event");
    pf.events = POLLIN | POLLRDHUP;
    CHECK(poll(&pf, 1, 0) == 1 && (pf.revents & POLLHUP) && (pf.revents & POLLRDHUP), "POLLHUP|POLLRDHUP after close (0x%x)",
          pf.revents);
    close(ep);
    close(sv[1]);

    int u = socket(AF_UNIX, SOCK_STREAM, 0);
    pf.fd = u;
    pf.events = POLLIN | POLLOUT;
    CHECK(poll(&pf, 1, 0) == 1 && (pf.revents & POLLHUP), "unconnected stream socket: POLLHUP");
    close(u);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, on_sigpipe);
    test_pairs();
    test_names();
    test_backlog();
    test_scm();
    test_flags_and_ioctls();
    test_blocking();
    test_dgram_names();
    test_readiness();
    return check_exit();
}
