/* Mapping an ELF executable: read and check its headers, choose the load
 * bias, map each PT_LOAD segment privately from the file, and zero-fill the
 * part of memory beyond the file data (bss). */
#include "exec/load.h"
#include "arch/layout.h"
#include "arch/uaccess.h"
#include "fs/namei.h"
#include "lib/errno.h"
#include "mm/kmalloc.h"
#include "mm/vm.h"

static int seg_prot(uint32_t flags)
{
    return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) | (flags & PF_X ? PROT_EXEC : 0);
}

int exec_read_image(struct file *f, uint64_t size, struct elf_image *img, const char **why)
{
    uint8_t head[sizeof(Elf64_Ehdr)];
    ssize_t n = vfs_pread_kernel(f, head, sizeof(head), 0);
    if (n < 0) {
        *why = "cannot read the file";
        return (int)n;
    }
    Elf64_Ehdr eh;
    int e = elf_check_header(head, (size_t)n, size, &eh, why);
    if (e)
        return e;
    size_t ph_bytes = (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
    Elf64_Phdr *ph = kmalloc(ph_bytes);
    if (!ph)
        return -ENOMEM;
    n = vfs_pread_kernel(f, ph, ph_bytes, eh.e_phoff);
    if (n != (ssize_t)ph_bytes) {
        kfree(ph);
        *why = "cannot read the program headers";
        return n < 0 ? (int)n : -ENOEXEC;
    }
    e = elf_parse_phdrs(&eh, ph, size, USER_TOP, img, why);
    kfree(ph);
    return e;
}

/* Map one segment at bias. */
static int map_segment(struct vm_space *vm, struct file *f, const struct elf_segment *s, uint64_t bias)
{
    int prot = seg_prot(s->flags);
    uint64_t start = ALIGN_DOWN(bias + s->vaddr, ELF_PAGE_SIZE);
    uint64_t file_end = bias + s->vaddr + s->filesz;
    uint64_t file_map_end = ALIGN_UP(file_end, ELF_PAGE_SIZE);
    uint64_t mem_end = ALIGN_UP(bias + s->vaddr + s->memsz, ELF_PAGE_SIZE);
    bool tail = s->memsz > s->filesz && (file_end & (ELF_PAGE_SIZE - 1));
    long r;
    if (s->filesz) {
        /* the file's last page may carry bytes past the segment: they must
         * read as zero, which needs the page writable for a moment */
        int first_prot = tail ? prot | PROT_WRITE : prot;
        r = vm_mmap(vm, start, file_map_end - start, first_prot, MAP_PRIVATE | MAP_FIXED, f,
                    ALIGN_DOWN(s->offset, ELF_PAGE_SIZE));
        if (r < 0)
            return (int)r;
        if (tail) {
            if (clear_user((void __user *)file_end, file_map_end - file_end))
                return -EFAULT;
            if (first_prot != prot && (r = vm_mprotect(vm, ALIGN_DOWN(file_end, ELF_PAGE_SIZE),
                                                       ELF_PAGE_SIZE, prot)))
                return (int)r;
        }
    } else {
        file_map_end = start;
    }
    if (mem_end > file_map_end) {
        r = vm_mmap(vm, file_map_end, mem_end - file_map_end, prot, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS,
                    NULL, 0);
        if (r < 0)
            return (int)r;
    }
    return 0;
}

int exec_map_image(struct vm_space *vm, struct file *f, const struct elf_image *img, uint64_t want_base,
                   uint64_t *bias_out)
{
    uint64_t bias = 0;
    if (img->type == ET_DYN) {
        /* reserve the whole extent to find room, then map the pieces into it */
        uint64_t span = img->hi - img->lo;
        long at = vm_mmap(vm, want_base, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, NULL, 0);
        if (at < 0)
            return (int)at;
        bias = (uint64_t)at - img->lo;
        int e = vm_munmap(vm, (uint64_t)at, span);
        if (e)
            return e;
    }
    for (unsigned i = 0; i < img->nload; i++) {
        int e = map_segment(vm, f, &img->load[i], bias);
        if (e)
            return e;
    }
    *bias_out = bias;
    return 0;
}
