/* osprey: build and run Osprey unikernel VMs. Command dispatch. */
#include "osprey.h"

#include <stdio.h>
#include <string.h>

#ifndef OSPREY_VERSION
#define OSPREY_VERSION "unknown"
#endif

static void usage(FILE *out)
{
    fprintf(out, "usage: osprey COMMAND [options]\n"
                 "\n"
                 "commands:\n"
                 "  build      package a program into an image (osprey build --help)\n"
                 "  run        boot an image, a directory or the kernel (osprey run --help)\n"
                 "  inspect    list an image's files and default command (osprey inspect --help)\n"
                 "  version    print the version\n"
                 "  help       this help\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return OSPREY_FAIL;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "build"))
        return cmd_build(argc - 1, argv + 1);
    if (!strcmp(cmd, "inspect"))
        return cmd_inspect(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("osprey %s\n", OSPREY_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "osprey: unknown command \"%s\" (try osprey help)\n", cmd);
    return OSPREY_FAIL;
}
