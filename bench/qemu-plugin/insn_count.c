/* A QEMU TCG plugin that counts guest instructions from reset and reports the
 * count at the kernel's PVH entry and at osbench's main (a marker nop). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The few declarations of QEMU's plugin API (version 1, QEMU 7.x) we use,
 * written from its documentation, since Debian ships no qemu-plugin.h. */
typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*vcpu_udata_cb)(unsigned int vcpu, void *udata);
typedef void (*udata_cb)(qemu_plugin_id_t id, void *udata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb cb);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, vcpu_udata_cb cb,
                                            enum qemu_plugin_cb_flags flags, void *udata);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
                                                enum qemu_plugin_op op, void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, udata_cb cb, void *udata);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* osbench's main begins with `nopl 0x4d42534f(%rax,%rax,1)` ("OSBM"). */
static const unsigned char marker[] = { 0x0f, 0x1f, 0x84, 0x00, 0x4f, 0x53, 0x42, 0x4d };

static uint64_t count;          /* instructions so far (run with -smp 1) */
static uint64_t entry_addr;     /* the kernel's PVH entry (physical = virtual there) */
static bool seen_entry, seen_main;

static void report(const char *what, uint64_t value)
{
    char line[96];
    snprintf(line, sizeof(line), "OSB-PLUGIN %s=%llu\n", what, (unsigned long long)value);
    qemu_plugin_outs(line);
}

/* The entry and marker instructions count themselves here rather than with
 * an inline add, so the value read is the number of instructions before them
 * whatever order QEMU runs an instruction's callbacks in. */
static void on_entry(unsigned int vcpu, void *udata)
{
    (void)vcpu, (void)udata;
    if (!seen_entry) {
        seen_entry = true;
        report("entry", count);
    }
    count++;
}

static void on_main(unsigned int vcpu, void *udata)
{
    (void)vcpu, (void)udata;
    if (!seen_main) {
        seen_main = true;
        report("main", count);
    }
    count++;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        if (entry_addr && qemu_plugin_insn_vaddr(insn) == entry_addr)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_entry, QEMU_PLUGIN_CB_NO_REGS, NULL);
        else if (qemu_plugin_insn_size(insn) == sizeof(marker) &&
                 memcmp(qemu_plugin_insn_data(insn), marker, sizeof(marker)) == 0)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_main, QEMU_PLUGIN_CB_NO_REGS, NULL);
        else
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &count, 1);
    }
}

static void on_qemu_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id, (void)udata;
    report("total", count);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id,
                                                               const void *info, int argc,
                                                               char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++)
        if (strncmp(argv[i], "entry=", 6) == 0)
            entry_addr = strtoull(argv[i] + 6, NULL, 0);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
    return 0;
}
