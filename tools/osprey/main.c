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
                 "  run        boot the Osprey kernel on QEMU (osprey run --help)\n"
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
