/*
 * main.c: the vtdsim command-line tool: a table of subcommands, and one exit-status scheme for
 * all of them (docs/cli.md): 0 done and every check held, 1 a check failed, 2 the command could
 * not do its job (usage, input or output error). Output that never reached stdout is status 2.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "vtdsim/version.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"run", cmd_run, "replay YAML scenarios and check their expectations (docs/scenario-format.md)"},
    {"translate", cmd_translate, "replay a scenario up to a step, translate one request uncached and cached"},
    {"inv-table", cmd_inv_table, "probe every CACHE_INVLD cell: errno, stale entries removed, over-invalidation"},
    {"trace", cmd_trace, "DMA traces: generate, replay with hit rates, sweep cache geometries, convert"},
    {"inspect", cmd_inspect, "read the VT-d structures of a memory image: translate, devices, mappings, check, queue"},
    {"merge", cmd_merge, "join the outputs of shards (run --shard, trace sweep --shard) into the whole run's"},
    {"schema", cmd_schema, "write the JSON Schema of scenario files, for editors and validators"},
    {"demo", cmd_demo, "build every translation type in simulated memory, translate, check, summarize"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: vtdsim COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-10s %s\n", "version", "print the version (also --version)");
    fprintf(out, "\n'vtdsim COMMAND --help' describes a command.\n");
}

/* "vtdsim 0.1.0", and the checkout's description when it was built from one. */
static int print_version(void)
{
    if (VTDSIM_VERSION_DESCRIBE[0])
        printf("vtdsim %s (%s)\n", VTDSIM_VERSION, VTDSIM_VERSION_DESCRIBE);
    else
        printf("vtdsim %s\n", VTDSIM_VERSION);
    return 0;
}

/*
 * The final flush of stdout, checked: a full disk, a closed pipe or a failed write is exit
 * status 2 with the reason (glibc's fflush retries what is buffered, so errno says why).
 */
static int stdout_checked(int status)
{
    errno = 0;
    if (!fflush(stdout) && !ferror(stdout))
        return status;
    fprintf(stderr, "vtdsim: cannot write the standard output: %s\n", strerror(errno ? errno : EIO));
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return stdout_checked(0);
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))
        return stdout_checked(print_version());
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return stdout_checked(commands[i].run(argc - 1, argv + 1));
    fprintf(stderr, "vtdsim: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
