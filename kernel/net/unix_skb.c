/* AF_UNIX messages: allocation and the sender's send-buffer accounting,
 * and what travels beside the bytes: descriptors (SCM_RIGHTS) and
 * credentials (SCM_CREDENTIALS). */
#include "core/proc.h"
#include "fs/anon_fd.h"
#include "fs/fdtable.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "unix_internal.h"

struct unix_skb *unix_skb_alloc(struct unix_sock *sender, size_t len)
{
    struct unix_skb *skb = kmalloc(sizeof(*skb) + len);
    if (!skb)
        return NULL;
    memset(skb, 0, sizeof(*skb));
    skb->sender = unix_get(sender);
    skb->len = len;
    skb->truesize = len + UNIX_SKB_OVERHEAD;
    __atomic_add_fetch(&sender->wmem, skb->truesize, __ATOMIC_RELAXED); /* until freed */
    return skb;
}

void unix_skb_queue(struct unix_sock *u, struct unix_skb *skb)
{
    list_add_tail(&u->rxq, &skb->link);
    u->rx_bytes += skb->len - skb->off;
    u->rx_count++;
}

static void fds_put(struct unix_fds *fds)
{
    if (!fds)
        return;
    for (unsigned i = 0; i < fds->count; i++)
        vfs_file_put(fds->files[i]);
    kfree(fds);
}

void unix_skb_free(struct unix_skb *skb)
{
    struct unix_sock *s = skb->sender;
    size_t left = __atomic_sub_fetch(&s->wmem, skb->truesize, __ATOMIC_RELAXED);
    if (left * 4 <= (size_t)READ_ONCE(s->sock.sndbuf))
        sock_notify(&s->sock, POLLOUT | POLLWRNORM | POLLWRBAND);
    fds_put(skb->fds);
    unix_addr_put(skb->from);
    unix_put(s);
    kfree(skb);
}

void unix_skb_free_list(struct list_node *list)
{
    struct list_node *n;
    while ((n = list_pop_head(list)))
        unix_skb_free(list_entry(n, struct unix_skb, link));
}

/* ---- control messages of a send ---- */

static int add_rights(struct unix_scm *scm, const int *fds, size_t n)
{
    struct proc *p = proc_current();
    unsigned have = scm->fds ? scm->fds->count : 0;
    if (have + n > SCM_MAX_FD)
        return -EINVAL;
    struct unix_fds *nf = kmalloc(sizeof(*nf) + (have + n) * sizeof(struct file *));
    if (!nf)
        return -ENOMEM;
    nf->count = have;
    if (have)
        memcpy(nf->files, scm->fds->files, have * sizeof(struct file *));
    kfree(scm->fds);
    scm->fds = nf;
    for (size_t i = 0; i < n; i++) {
        int fd;
        memcpy(&fd, &fds[i], sizeof(fd));
        struct file *f = p && p->files ? fd_get(p->files, fd) : NULL;
        if (!f)
            return -EBADF;
        nf->files[nf->count++] = f;
    }
    return 0;
}

int unix_scm_parse(const struct sock_msg *m, struct unix_scm *scm)
{
    memset(scm, 0, sizeof(*scm));
    sock_current_cred(&scm->cred);
    size_t pos = 0, len;
    const struct cmsghdr *h;
    const void *data;
    int err = 0;
    while (sock_next_cmsg(m, &pos, &h, &data, &len, &err)) {
        if (h->cmsg_level != SOL_SOCKET)
            continue; /* Linux ignores other levels here */
        if (h->cmsg_type == SCM_RIGHTS) {
            err = add_rights(scm, data, len / sizeof(int));
        } else if (h->cmsg_type == SCM_CREDENTIALS) {
            if (len != sizeof(struct ucred))
                err = -EINVAL;
            else
                memcpy(&scm->cred, data, sizeof(scm->cred)); /* everyone is root: any id goes */
        } else {
            err = -EINVAL;
        }
        if (err)
            break;
    }
    if (err)
        unix_scm_drop(scm);
    return err;
}

void unix_scm_drop(struct unix_scm *scm)
{
    fds_put(scm->fds);
    scm->fds = NULL;
}

struct unix_fds *unix_fds_dup(const struct unix_fds *fds)
{
    if (!fds)
        return NULL;
    struct unix_fds *c = kmalloc(sizeof(*c) + fds->count * sizeof(struct file *));
    if (!c)
        return NULL;
    c->count = fds->count;
    for (unsigned i = 0; i < fds->count; i++)
        c->files[i] = vfs_file_ref(fds->files[i]);
    return c;
}

/* ---- control messages of a receive ---- */

/* Install as many descriptors as the control buffer has room for; the
 * rest are closed and the message marked MSG_CTRUNC. Consumes fds. */
static int recv_rights(struct sock_msg *m, struct unix_fds *fds)
{
    size_t room = m->ctl_out && m->ctl_out_len > m->ctl_out_used + sizeof(struct cmsghdr)
                      ? (m->ctl_out_len - m->ctl_out_used - sizeof(struct cmsghdr)) / sizeof(int)
                      : 0;
    unsigned n = (unsigned)MIN(room, (size_t)fds->count), installed = 0, i = 0;
    int nums[SCM_MAX_FD];
    while (i < n) {
        int fd = anon_fd_install(fds->files[i++], m->cloexec ? O_CLOEXEC : 0); /* consumes it */
        if (fd < 0)
            break;
        nums[installed++] = fd;
    }
    for (; i < fds->count; i++)
        vfs_file_put(fds->files[i]);
    if (installed < fds->count)
        m->flags_out |= MSG_CTRUNC;
    kfree(fds);
    return installed ? sock_put_cmsg(m, SOL_SOCKET, SCM_RIGHTS, nums, installed * sizeof(int)) : 0;
}

int unix_scm_recv(struct sock_msg *m, struct ucred *cred, struct unix_fds *fds, bool passcred)
{
    int err = 0;
    if (passcred && cred)
        err = sock_put_cmsg(m, SOL_SOCKET, SCM_CREDENTIALS, cred, sizeof(*cred));
    if (fds) {
        int e = recv_rights(m, fds);
        err = err ? err : e;
    }
    return err;
}
