/* Starting the application: load its ELF executable (and the dynamic linker
 * it names) into a new process and start its main thread in ring 3. */
#pragma once

#include "lib/types.h"

struct exec_request {
    const char *const *argv;   /* argv[0] is the program: a path, or a name found in PATH */
    unsigned argc;
    const char *const *envp;
    unsigned envc;
    const char *cwd;           /* working directory, NULL for / */
    bool aslr;                 /* randomise the load addresses */
};

/* Create the process and start the program. On failure returns -errno with a
 * one-line reason in err (the VM then exits with 127 when the program does
 * not exist, 126 when it cannot be run). */
int exec_start(const struct exec_request *req, char *err, size_t errlen);
