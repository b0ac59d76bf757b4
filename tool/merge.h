/*
 * merge.h: what `vtdsim merge` collects from the shards' outputs (tool/merge.c reads and writes
 * the files, tool/merge_parse.c understands each format): every item of the whole run at its
 * index, and the totals the shards' headers carry.
 */
#ifndef VTDSIM_TOOL_MERGE_H
#define VTDSIM_TOOL_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum merge_kind { MERGE_JSON, MERGE_JUNIT, MERGE_CSV };

struct merge_item {
    char *text;           /* as the whole run writes it (JUnit: its lines, each ending in a newline) */
    size_t len;
    const char *from;     /* the input and line it came from, for a repeated item's error */
    unsigned long line;
};

#define MERGE_ERR_LEN 1024
#define MERGE_MAX_ITEMS 100000000ul

struct merge {
    enum merge_kind kind;
    long total;                   /* items in the whole run; -1 until an input says */
    const char *total_from;       /* the input that said so */
    struct merge_item *item;      /* total of them, text NULL until found */
    unsigned long tests, failed;  /* JSON and JUnit: summed over the shards */
    double seconds;               /* JUnit: the suites' times summed */
    char *csv_header;             /* CSV: the whole sweep's header (the shard columns taken off) */
    char err[MERGE_ERR_LEN];      /* "FILE:LINE:COLUMN: reason" */
};

/* One input line by line: the line without its newline, its number, where it came from. */
struct merge_lines {
    FILE *f;
    const char *path;
    char *buf;
    size_t cap;
    size_t len;
    unsigned long no;
};

/* Take in one shard's output (JSON report, JUnit report or sweep CSV as m->kind says).
 * 0, or -1 with the reason in m->err. */
int merge_parse(struct merge *m, struct merge_lines *in);

#endif
