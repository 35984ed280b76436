/* Shared by the exec files: the state of one program start (the initial one
 * or an execve) while it is being prepared and loaded. */
#pragma once

#include "exec/elf.h"
#include "exec/stack.h"
#include "lib/types.h"

#define EXEC_PATH_MAX 4096
#define EXEC_MAX_SCRIPT_DEPTH 4
#define EXEC_MAX_WORDS 4096
#define EXEC_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct file;
struct fs_context;
struct proc;
struct vm_space;

struct exec_ctx {
    const char *argv[EXEC_MAX_WORDS + 1];
    unsigned argc;
    const char *envp[EXEC_MAX_WORDS + 1];
    unsigned envc;
    struct fs_context *fs;             /* where names are looked up */
    char path[EXEC_PATH_MAX];          /* the file being run */
    char *script_lines[2 * (EXEC_MAX_SCRIPT_DEPTH + 1)]; /* "#!" lines and script paths */
    unsigned nscripts;
    char elf_interp[ELF_INTERP_MAX];
    bool aslr;
    char *err;
    size_t errlen;
    /* the prepared program: opened and checked, not yet mapped */
    struct file *file;
    uint64_t file_size;
    struct elf_image img;
};

int exec_fail(struct exec_ctx *c, int e, const char *fmt, ...) __printf(3, 4);
const char *exec_env_get(const struct exec_ctx *c, const char *name);
/* Open a file to run (a regular file with an execute bit), explaining a refusal. */
int exec_open(struct exec_ctx *c, const char *path, struct file **out, uint64_t *size);
/* Find the program `name` (a path; with search_path a name without a slash
 * is looked up in $PATH, as execvp does), follow "#!" lines, open the ELF
 * file and check its headers: c->path, c->file, c->img. */
int exec_prepare(struct exec_ctx *c, const char *name, bool search_path);
/* Map the prepared program, its interpreter, the vDSO and the stack into
 * vm (which must be active on this CPU). */
int exec_load(struct exec_ctx *c, struct proc *p, struct vm_space *vm, uint64_t *entry, uint64_t *sp);
/* /proc's copies of what was started (cmdline, environ, exe). */
void exec_record(struct exec_ctx *c, struct proc *p);
void exec_ctx_release(struct exec_ctx *c);
