/*
 * schema.c: `vtdsim schema`: the JSON Schema for scenario files (runner/schema.h), generated
 * from the loader's tables, on the standard output or into a file written aside and renamed
 * into place (walker/outfile.h). The build writes it into the build tree and installs it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "runner/schema.h"
#include "walker/outfile.h"

static const char schema_help[] =
    "usage: vtdsim schema [-o FILE] [--strict]\n"
    "\n"
    "Writes the JSON Schema (draft-07) of scenario files, generated from the loader's own\n"
    "tables of keys: every key with its type, range, names and description, unknown keys\n"
    "refused. Editors use it through yaml-language-server; installed as\n"
    "share/vtdsim/schema/scenario.schema.json (docs/editors.md).\n"
    "\n"
    "options:\n"
    "  -o, --output FILE  write the schema to FILE instead of the standard output\n"
    "  --strict           exit 1 when a key of the loader's tables could not be described\n"
    "  --help             this text\n"
    "\n"
    "A key the generator cannot describe is named on stderr. Exit status: 0; 1 with --strict\n"
    "and such a key; 2 on a usage error or when the file could not be written.\n";

static int schema_usage(const char *fmt, const char *arg) { return tool_usage_error("schema", fmt, arg); }

int cmd_schema(int argc, char **argv)
{
    const char *path = NULL;
    bool strict = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(schema_help, stdout);
            return 0;
        }
        if (!strcmp(a, "--strict")) {
            strict = true;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc)
                return schema_usage("%s needs a value", a);
            path = argv[++i];
        } else {
            return schema_usage("unknown argument '%s'", a);
        }
    }
    unsigned issues;
    if (!path) {
        issues = sc_schema_write(stdout, stderr);
    } else {
        struct vtd_outfile out;
        if (vtd_outfile_open(&out, path, NULL, 0))
            return tool_error("schema", out.err);
        issues = sc_schema_write(out.f, stderr);
        if (vtd_outfile_commit(&out))
            return tool_error("schema", out.err);
    }
    return strict && issues ? 1 : 0;
}
