/* virtio-net (virtio 1.2 section 5.1) as an lwIP Ethernet interface, on
 * every transport: receive buffers kept posted and handed to lwIP without a
 * copy (custom pbufs), mergeable receive buffers and large receive (GUEST_TSO4)
 * when offered, TCP checksum offload both ways, interrupt suppression while
 * the network thread polls, link status and the MAC from the config space. */
#include "drivers/virtio.h"
#include "core/log.h"
#include "lib/errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "net/net.h"
#include "net/netif.h"

#include "lwip/etharp.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/snmp.h"
#include "lwip/stats.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16

#define VIRTIO_NET_S_LINK_UP 1
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2

#define CFG_MAC 0
#define CFG_STATUS 6
#define CFG_MTU 10

#define RX_BUF_ALLOC 2048            /* one kmalloc class: never crosses a page */
#define RX_BIG_BUF (65562 + 64)      /* large receive without mergeable buffers */
#define RX_COPY_MAX 256              /* smaller packets are copied, the buffer reposted */
#define RX_BUDGET 128                /* packets per poll before yielding */
#define TX_MAX_SG 18                 /* header + pbufs; longer chains are copied */
#define ETH_HLEN_ 14

struct virtio_net_hdr {
    uint8_t flags, gso_type;
    uint16_t hdr_len, gso_size, csum_start, csum_offset;
    uint16_t num_buffers; /* with VIRTIO_F_VERSION_1 or MRG_RXBUF only */
} __packed;

struct vnet;

/* A receive buffer: the pbuf lwIP gets, then the bytes the device writes. */
struct vnet_rxbuf {
    struct pbuf_custom pc;
    uint8_t data[] __aligned(16);
};

struct vnet_tx {
    struct pbuf *p;
    struct virtio_net_hdr hdr;
};

struct vnet {
    struct netif netif;
    struct virtio_device *vdev;
    struct virtqueue *vqs[2];        /* receiveq1, transmitq1 */
    unsigned hdr_len;
    size_t rx_alloc, rx_data;        /* buffer allocation, bytes the device may write */
    unsigned rx_posted;
    bool mergeable, tx_csum, link_up, refill_pending;
    volatile bool config_changed;
    struct net_poller poller;
    uint64_t rx_dropped, tx_dropped;
};

#define RXQ(vn) ((vn)->vqs[0])
#define TXQ(vn) ((vn)->vqs[1])

/* ---- receive buffers ---- */

static void rxbuf_free(struct pbuf *p)
{
    kfree(container_of((struct pbuf_custom *)p, struct vnet_rxbuf, pc));
}

static int rx_post(struct vnet *vn, struct vnet_rxbuf *b)
{
    struct virtq_sg sg[2];
    unsigned n = virtio_sg_from_buf(sg, 2, b->data, vn->rx_data);
    if (!n)
        return -EINVAL;
    struct virtqueue *vq = RXQ(vn);
    irqflags_t f = spin_lock(&vq->lock);
    int err = virtq_add(vq, sg, 0, n, b);
    spin_unlock(&vq->lock, f);
    if (!err)
        vn->rx_posted++;
    return err;
}

static void rx_refill_timer(void *arg);
static void rx_refill(struct vnet *vn);

/* Keep the receive ring full; retry later when memory is short. The
 * device hears of new buffers only once it is running (kick). */
static void rx_fill(struct vnet *vn, bool kick)
{
    struct virtqueue *vq = RXQ(vn);
    bool added = false;
    while (vn->rx_posted < vq->num) {
        struct vnet_rxbuf *b = kmalloc(vn->rx_alloc);
        if (!b)
            break;
        if (rx_post(vn, b)) {
            kfree(b);
            break;
        }
        added = true;
    }
    if (added && kick) {
        irqflags_t f = spin_lock(&vq->lock);
        virtqueue_kick(vq);
        spin_unlock(&vq->lock, f);
    }
    if (kick && vn->rx_posted < vq->num / 2 && !vn->refill_pending) {
        vn->refill_pending = true;
        sys_timeout(100, rx_refill_timer, vn);
    }
}

static void rx_refill(struct vnet *vn)
{
    rx_fill(vn, true);
}

static void rx_refill_timer(void *arg)
{
    struct vnet *vn = arg;
    vn->refill_pending = false;
    rx_refill(vn);
}

static struct vnet_rxbuf *rx_get_used(struct vnet *vn, uint32_t *len)
{
    struct virtqueue *vq = RXQ(vn);
    irqflags_t f = spin_lock(&vq->lock);
    struct vnet_rxbuf *b = virtq_get_used(vq, len);
    spin_unlock(&vq->lock, f);
    if (b)
        vn->rx_posted--;
    return b;
}

/* ---- receive checksums ---- */

/* A view of p that starts off bytes later (off within the first pbuf):
 * received pbufs refer to our buffers, and lwIP would not move a
 * reference's payload back once moved forward. */
static struct pbuf pbuf_view(const struct pbuf *p, unsigned off)
{
    struct pbuf v = *p;
    v.payload = (uint8_t *)p->payload + off;
    v.len = (u16_t)(p->len - off);
    v.tot_len = (u16_t)(p->tot_len - off);
    return v;
}

/* A TCP segment whose checksum nobody vouched for: verify it here (lwIP's
 * own TCP check is off on this interface, see vnet_netif_init). */
static bool rx_tcp_ok(struct pbuf *p)
{
    if (p->len < ETH_HLEN_ + IP_HLEN)
        return true; /* lwIP drops what is malformed */
    const uint8_t *eth = p->payload;
    if (eth[12] != 0x08 || eth[13] != 0x00)
        return true; /* not IPv4 */
    const struct ip_hdr *ip = (const void *)(eth + ETH_HLEN_);
    unsigned ihl = IPH_HL_BYTES(ip), tot = lwip_ntohs(IPH_LEN(ip));
    if (IPH_PROTO(ip) != IP_PROTO_TCP || (lwip_ntohs(IPH_OFFSET(ip)) & (IP_MF | IP_OFFMASK)))
        return true;
    if (ihl < IP_HLEN || tot < ihl || ETH_HLEN_ + tot > p->tot_len || p->len < ETH_HLEN_ + ihl)
        return true; /* lwIP rejects bad lengths */
    ip4_addr_t src, dst;
    ip4_addr_copy(src, ip->src);
    ip4_addr_copy(dst, ip->dest);
    struct pbuf v = pbuf_view(p, ETH_HLEN_ + ihl);
    return inet_chksum_pseudo_partial(&v, IP_PROTO_TCP, (u16_t)(tot - ihl), (u16_t)(tot - ihl), &src, &dst) == 0;
}

/* The host left a partial checksum (NEEDS_CSUM): complete it for UDP, which
 * lwIP still checks; TCP is trusted as it comes from the local host. */
static bool rx_fix_partial(struct pbuf *p, const struct virtio_net_hdr *h)
{
    unsigned start = h->csum_start, off = h->csum_offset;
    if (start + off + 2 > p->len || start >= p->tot_len)
        return false;
    const uint8_t *eth = p->payload;
    if (eth[12] != 0x08 || eth[13] != 0x00 || p->len < ETH_HLEN_ + IP_HLEN)
        return true;
    const struct ip_hdr *ip = (const void *)(eth + ETH_HLEN_);
    if (IPH_PROTO(ip) != IP_PROTO_UDP)
        return true;
    struct pbuf v = pbuf_view(p, start);
    u16_t c = inet_chksum_pbuf(&v);
    memcpy((uint8_t *)p->payload + start + off, &c, 2);
    return true;
}

/* ---- receive ---- */

/* The packet starting in buffer b (len bytes written, header first). */
static struct pbuf *rx_build(struct vnet *vn, struct vnet_rxbuf *b, uint32_t len)
{
    struct virtio_net_hdr h;
    memset(&h, 0, sizeof(h));
    if (len < vn->hdr_len + ETH_HLEN_ || len > vn->rx_data || len - vn->hdr_len > 0xffff) {
        kfree(b);
        return NULL;
    }
    memcpy(&h, b->data, vn->hdr_len);
    unsigned nbuf = vn->mergeable && h.num_buffers ? h.num_buffers : 1;
    uint32_t plen = len - vn->hdr_len;
    struct pbuf *p;
    if (nbuf == 1 && plen <= RX_COPY_MAX && (p = pbuf_alloc(PBUF_RAW, (u16_t)plen, PBUF_RAM))) {
        memcpy(p->payload, b->data + vn->hdr_len, plen);
        if (rx_post(vn, b)) /* the same buffer goes straight back */
            kfree(b);
    } else {
        p = pbuf_alloced_custom(PBUF_RAW, (u16_t)plen, PBUF_REF, &b->pc, b->data + vn->hdr_len, (u16_t)plen);
        b->pc.custom_free_function = rxbuf_free;
        for (unsigned i = 1; i < nbuf && p; i++) {
            uint32_t l2;
            struct vnet_rxbuf *m = rx_get_used(vn, &l2);
            if (!m || l2 > vn->rx_data || p->tot_len + l2 > 0xffff) {
                kfree(m); /* a device that breaks its word: drop the packet */
                pbuf_free(p);
                p = NULL;
                break;
            }
            struct pbuf *q = pbuf_alloced_custom(PBUF_RAW, (u16_t)l2, PBUF_REF, &m->pc, m->data, (u16_t)l2);
            m->pc.custom_free_function = rxbuf_free;
            pbuf_cat(p, q);
        }
    }
    if (!p)
        return NULL;
    bool ok = (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ? rx_fix_partial(p, &h)
            : (h.flags & VIRTIO_NET_HDR_F_DATA_VALID) ? true : rx_tcp_ok(p);
    if (!ok) {
        pbuf_free(p);
        return NULL;
    }
    return p;
}

static void rx_poll(struct vnet *vn)
{
    struct netif *nif = &vn->netif;
    unsigned budget = RX_BUDGET;
    while (budget) {
        uint32_t len;
        struct vnet_rxbuf *b = rx_get_used(vn, &len);
        if (!b) {
            struct virtqueue *vq = RXQ(vn);
            irqflags_t f = spin_lock(&vq->lock);
            bool quiet = virtq_enable_cb(vq); /* false: more arrived meanwhile */
            spin_unlock(&vq->lock, f);
            if (quiet)
                break;
            continue;
        }
        budget--;
        struct pbuf *p = rx_build(vn, b, len);
        if (!p) {
            vn->rx_dropped++;
            MIB2_STATS_NETIF_INC(nif, ifindiscards);
            continue;
        }
        MIB2_STATS_NETIF_ADD(nif, ifinoctets, p->tot_len);
        if (((const uint8_t *)p->payload)[0] & 1)
            MIB2_STATS_NETIF_INC(nif, ifinnucastpkts);
        else
            MIB2_STATS_NETIF_INC(nif, ifinucastpkts);
        if (nif->input(p, nif) != ERR_OK)
            pbuf_free(p);
    }
    if (!budget)
        net_kick(); /* more to do: come back without waiting for an interrupt */
    rx_refill(vn);
}

/* ---- transmit ---- */

static void tx_reclaim(struct vnet *vn)
{
    struct virtqueue *vq = TXQ(vn);
    struct vnet_tx *done[32];
    for (;;) {
        unsigned n = 0;
        uint32_t len;
        irqflags_t f = spin_lock(&vq->lock);
        while (n < ARRAY_SIZE(done) && (done[n] = virtq_get_used(vq, &len)))
            n++;
        spin_unlock(&vq->lock, f);
        for (unsigned i = 0; i < n; i++) {
            pbuf_free(done[i]->p);
            kfree(done[i]);
        }
        if (n < ARRAY_SIZE(done))
            return;
    }
}

/* TCP checksum offload: the device sums from csum_start; we leave the
 * pseudo-header sum in the checksum field, as the spec asks. */
static void tx_offload(struct vnet *vn, struct pbuf *p, struct virtio_net_hdr *h)
{
    if (!vn->tx_csum || p->len < ETH_HLEN_ + IP_HLEN)
        return;
    uint8_t *eth = p->payload;
    if (eth[12] != 0x08 || eth[13] != 0x00)
        return;
    struct ip_hdr *ip = (void *)(eth + ETH_HLEN_);
    unsigned ihl = IPH_HL_BYTES(ip), tot = lwip_ntohs(IPH_LEN(ip));
    if (IPH_PROTO(ip) != IP_PROTO_TCP || (lwip_ntohs(IPH_OFFSET(ip)) & (IP_MF | IP_OFFMASK)))
        return;
    unsigned start = ETH_HLEN_ + ihl, off = 16; /* offsetof(struct tcp_hdr, chksum) */
    if (start + off + 2 > p->len || tot < ihl)
        return;
    ip4_addr_t src, dst;
    ip4_addr_copy(src, ip->src);
    ip4_addr_copy(dst, ip->dest);
    u16_t pseudo = (u16_t)~inet_chksum_pseudo_partial(p, IP_PROTO_TCP, (u16_t)(tot - ihl), 0, &src, &dst);
    memcpy(eth + start + off, &pseudo, 2);
    h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h->csum_start = (uint16_t)start;
    h->csum_offset = (uint16_t)off;
}

static err_t vnet_linkoutput(struct netif *nif, struct pbuf *p)
{
    struct vnet *vn = nif->state;
    tx_reclaim(vn);
    struct vnet_tx *t = kzalloc(sizeof(*t));
    if (!t)
        goto drop_nomem;
    if (pbuf_clen(p) > TX_MAX_SG - 2) {
        t->p = pbuf_clone(PBUF_RAW, PBUF_RAM, p); /* too many pieces: one copy */
        if (!t->p)
            goto drop;
    } else {
        pbuf_ref(p);
        t->p = p;
    }
    tx_offload(vn, t->p, &t->hdr);
    struct virtq_sg sg[TX_MAX_SG * 2];
    unsigned n = virtio_sg_from_buf(sg, ARRAY_SIZE(sg), &t->hdr, vn->hdr_len);
    for (struct pbuf *q = t->p; q && n; q = q->next) {
        if (!q->len)
            continue;
        unsigned k = virtio_sg_from_buf(sg + n, ARRAY_SIZE(sg) - n, q->payload, q->len);
        n = k ? n + k : 0;
    }
    if (!n)
        goto drop;
    struct virtqueue *vq = TXQ(vn);
    irqflags_t f = spin_lock(&vq->lock);
    int err = virtq_add(vq, sg, n, 0, t);
    if (!err)
        virtqueue_kick(vq);
    spin_unlock(&vq->lock, f);
    if (err)
        goto drop;
    MIB2_STATS_NETIF_ADD(nif, ifoutoctets, p->tot_len);
    MIB2_STATS_NETIF_INC(nif, ifoutucastpkts);
    return ERR_OK;
drop:
    if (t->p)
        pbuf_free(t->p);
    kfree(t);
drop_nomem:
    vn->tx_dropped++;
    MIB2_STATS_NETIF_INC(nif, ifoutdiscards);
    return ERR_MEM; /* TCP keeps the segment and sends it again */
}

/* ---- link, polling, interrupts ---- */

static void link_update(struct vnet *vn)
{
    bool up = !virtio_has_feature(vn->vdev, VIRTIO_NET_F_STATUS) ||
              (virtio_cread16(vn->vdev, CFG_STATUS) & VIRTIO_NET_S_LINK_UP);
    if (up == vn->link_up)
        return;
    vn->link_up = up;
    if (up)
        netif_set_link_up(&vn->netif);
    else
        netif_set_link_down(&vn->netif);
    pr_info("virtio-net: %s: link %s\n", vn->vdev->name, up ? "up" : "down");
}

static void vnet_poll(void *arg)
{
    struct vnet *vn = arg;
    if (vn->config_changed) {
        vn->config_changed = false;
        link_update(vn);
    }
    rx_poll(vn);
    tx_reclaim(vn);
}

static void vnet_rx_interrupt(struct virtqueue *vq)
{
    irqflags_t f = spin_lock(&vq->lock);
    virtq_disable_cb(vq); /* the network thread polls until the ring is empty */
    spin_unlock(&vq->lock, f);
    net_kick();
}

static void vnet_tx_interrupt(struct virtqueue *vq)
{
    (void)vq; /* completions are collected on the next transmit or poll */
}

static void vnet_config_changed(struct virtio_device *vdev)
{
    struct vnet *vn = vdev->priv;
    if (vn) {
        vn->config_changed = true;
        net_kick();
    }
}

/* ---- the interface ---- */

static err_t vnet_netif_init(struct netif *nif)
{
    struct vnet *vn = nif->state;
    nif->name[0] = 'e';
    nif->name[1] = 'n';
    nif->output = etharp_output;
    nif->linkoutput = vnet_linkoutput;
    nif->hwaddr_len = ETH_HWADDR_LEN;
    nif->mtu = 1500;
    if (virtio_has_feature(vn->vdev, VIRTIO_NET_F_MTU)) {
        uint16_t mtu = virtio_cread16(vn->vdev, CFG_MTU);
        if (mtu >= 68)
            nif->mtu = mtu;
    }
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_IGMP;
    /* TCP checksums: the driver checks what arrives (rx_tcp_ok) and the device
     * may compute what leaves; the rest lwIP does */
    u16_t ck = NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_CHECK_TCP;
    if (vn->tx_csum)
        ck &= ~NETIF_CHECKSUM_GEN_TCP;
    NETIF_SET_CHECKSUM_CTRL(nif, ck);
    return ERR_OK;
}

static void read_mac(struct vnet *vn)
{
    uint8_t *mac = vn->netif.hwaddr;
    if (virtio_has_feature(vn->vdev, VIRTIO_NET_F_MAC)) {
        for (unsigned i = 0; i < ETH_HWADDR_LEN; i++)
            mac[i] = virtio_cread8(vn->vdev, CFG_MAC + i);
        return;
    }
    uint32_t r = LWIP_RAND();
    const uint8_t m[6] = { 0x52, 0x54, 0x00, (uint8_t)r, (uint8_t)(r >> 8), (uint8_t)(r >> 16) };
    memcpy(mac, m, sizeof(m)); /* locally administered, QEMU's prefix */
}

static void vnet_features(struct vnet *vn)
{
    struct virtio_device *d = vn->vdev;
    vn->mergeable = virtio_has_feature(d, VIRTIO_NET_F_MRG_RXBUF);
    vn->hdr_len = (vn->mergeable || virtio_has_feature(d, VIRTIO_F_VERSION_1)) ? 12 : 10;
    vn->tx_csum = virtio_has_feature(d, VIRTIO_NET_F_CSUM);
    bool big = !vn->mergeable && (virtio_has_feature(d, VIRTIO_NET_F_GUEST_TSO4) ||
                                  (virtio_has_feature(d, VIRTIO_NET_F_MTU) &&
                                   virtio_cread16(d, CFG_MTU) > 1500));
    vn->rx_alloc = big ? RX_BIG_BUF + sizeof(struct vnet_rxbuf) : RX_BUF_ALLOC;
    vn->rx_data = vn->rx_alloc - sizeof(struct vnet_rxbuf);
}

static int vnet_probe(struct virtio_device *vdev)
{
    struct vnet *vn = kzalloc(sizeof(*vn));
    if (!vn)
        return -ENOMEM;
    vn->vdev = vdev;
    net_start(); /* before interrupts can arrive: they kick the network thread */
    vnet_features(vn);
    struct virtio_vq_info info[2] = {
        { .callback = vnet_rx_interrupt, .name = "receiveq1" },
        { .callback = vnet_tx_interrupt, .name = "transmitq1" },
    };
    int err = virtio_find_vqs(vdev, 2, info, vn->vqs);
    if (err) {
        kfree(vn);
        return err;
    }
    RXQ(vn)->priv = TXQ(vn)->priv = vn;
    vdev->priv = vn;
    irqflags_t f = spin_lock(&TXQ(vn)->lock);
    virtq_disable_cb(TXQ(vn)); /* transmit completions need no interrupt */
    spin_unlock(&TXQ(vn)->lock, f);
    read_mac(vn);
    net_lock();
    rx_fill(vn, false);
    virtio_device_ready(vdev);
    rx_refill(vn); /* the kick, now that the device may look */
    net_if_add_ethernet(&vn->netif, vn, vnet_netif_init);
    netif_set_up(&vn->netif);
    link_update(vn);
    net_unlock();
    vn->poller = (struct net_poller){ .poll = vnet_poll, .arg = vn };
    net_register_poller(&vn->poller);
    const uint8_t *m = vn->netif.hwaddr;
    pr_info("virtio-net: %s: %02x:%02x:%02x:%02x:%02x:%02x, mtu %u, %u rx buffers%s%s%s\n", vdev->name,
            m[0], m[1], m[2], m[3], m[4], m[5], vn->netif.mtu, vn->rx_posted,
            vn->mergeable ? ", mergeable" : "", vn->tx_csum ? ", tx checksum offload" : "",
            virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_TSO4) ? ", large receive" : "");
    return 0;
}

const struct virtio_driver virtio_net_driver = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .features = VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) |
                VIRTIO_BIT(VIRTIO_NET_F_MTU) | VIRTIO_BIT(VIRTIO_NET_F_MAC) |
                VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) |
                VIRTIO_BIT(VIRTIO_NET_F_STATUS),
    .probe = vnet_probe,
    .config_changed = vnet_config_changed,
};
