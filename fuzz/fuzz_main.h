/*
 * fuzz_main.h: the plain driver used when a target is not built with libFuzzer (AFL++ with
 * afl-clang-fast / afl-clang-lto, or replaying a file by hand): reads argv[1], or stdin when
 * there is no argument or it is "-", and calls LLVMFuzzerTestOneInput once.
 * Include it from a fuzz target after defining LLVMFuzzerTestOneInput.
 */
#ifndef VTDSIM_FUZZ_MAIN_H
#define VTDSIM_FUZZ_MAIN_H

/*
 * ASan's quarantine at 64 MiB instead of 256: a freed block still waits for dozens of inputs
 * (each allocates at most a few MiB) before its memory is reused, so a use after free within an
 * input is caught the same, but the allocator cycles through a quarter of the memory, which
 * the kernel otherwise has to fault in again and again (fuzz_trace ran 2x faster). An
 * ASAN_OPTIONS setting overrides it.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "quarantine_size_mb=64"; }

#ifndef VTDSIM_LIBFUZZER
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_INPUT (1u << 20)

int main(int argc, char **argv)
{
    FILE *f = stdin;
    if (argc > 1 && strcmp(argv[1], "-") != 0 && !(f = fopen(argv[1], "rb"))) {
        perror(argv[1]);
        return 2;
    }
    uint8_t *buf = malloc(FUZZ_MAX_INPUT);
    if (!buf)
        return 2;
    size_t n = fread(buf, 1, FUZZ_MAX_INPUT, f);
    if (f != stdin)
        fclose(f);
    /* A copy of exactly the input's size, so that reads past its end are caught by ASan. */
    uint8_t *in = malloc(n ? n : 1);
    if (!in)
        return 2;
    memcpy(in, buf, n);
    free(buf);
    int rc = LLVMFuzzerTestOneInput(in, n);
    free(in);
    return rc;
}
#endif

#endif
