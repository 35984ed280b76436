/* Pure: the "SIZE@BASE:IRQ[:ID]" form of virtio_mmio.device= that QEMU
 * microvm and Firecracker put on the kernel command line (SIZE may carry a
 * K/M/G suffix, BASE and IRQ are decimal or 0x-hex). */
#include "drivers/virtio.h"
#include "lib/errno.h"
#include "lib/parse.h"
#include "lib/string.h"

#define DESC_MAX 80

int virtio_mmio_parse_desc(const char *s, struct virtio_mmio_desc *out)
{
    char buf[DESC_MAX];
    if (strlen(s) >= sizeof(buf))
        return -EINVAL;
    strlcpy(buf, s, sizeof(buf));
    char *at = strchr(buf, '@');
    if (!at)
        return -EINVAL;
    *at = 0;
    char *base = at + 1, *irq = strchr(base, ':');
    if (!irq)
        return -EINVAL;
    *irq++ = 0;
    char *id = strchr(irq, ':');
    if (id)
        *id++ = 0;
    uint64_t size, addr, line, pid = 0;
    if (parse_size(buf, &size) || parse_u64(base, &addr) || parse_u64(irq, &line) ||
        (id && parse_u64(id, &pid)))
        return -EINVAL;
    if (!size || addr + size < addr || line > 255 || pid > UINT32_MAX)
        return -EINVAL;
    out->size = size;
    out->base = addr;
    out->irq = (uint32_t)line;
    out->id = (uint32_t)pid;
    return 0;
}
