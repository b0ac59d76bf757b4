/*
 * test_suggest.c: "did you mean" in the loader's errors: the closest key, step kind, fault,
 * device or table name when the word is a typo of it, and nothing when it is not.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "runner/scenario.h"
#include "runner/suggest.h"

static const char *suggest(const char *word, const char *const *cands, char *buf, size_t n)
{
    struct sc_suggest s;
    sc_suggest_init(&s, word);
    for (; *cands; cands++)
        sc_suggest_offer(&s, *cands);
    sc_suggest_offer(&s, NULL);
    return sc_suggest_text(&s, buf, n);
}

Test(suggest, typos_and_strangers)
{
    static const char *const keys[] = {"addr", "access", "device", "pasid", NULL};
    char b[96];
    cr_assert_str_eq(suggest("adr", keys, b, sizeof b), " (did you mean 'addr'?)");
    cr_assert_str_eq(suggest("ACESS", keys, b, sizeof b), " (did you mean 'access'?)", "case is ignored");
    cr_assert_str_eq(suggest("size", keys, b, sizeof b), "", "no name is close");
    cr_assert_str_eq(suggest("addr", keys, b, sizeof b), "", "an exact name is no typo");
    char longword[100];
    memset(longword, 'a', sizeof longword - 1);
    longword[sizeof longword - 1] = 0;
    cr_assert_str_eq(suggest(longword, keys, b, sizeof b), "", "a long word is not compared");
}

static const char *load_error(const char *text)
{
    static struct sc_error err;
    struct scenario *s = sc_load_string("t.yaml", text, strlen(text), &err);
    cr_assert_null(s, "loads, but should not");
    return err.msg;
}

#define HEAD "name: t\ndevices:\n  - {name: nic0, bdf: \"00:03.0\"}\ntables:\n  - {name: gpt, format: fs}\nsteps:\n"

Test(suggest, loader_errors_name_the_likely_word)
{
    cr_assert(strstr(load_error(HEAD "  - dma: {device: nic0, adr: 0x1000, access: read}\n"), "did you mean 'addr'?"));
    cr_assert(strstr(load_error(HEAD "  - dmaa: {device: nic0, addr: 0x1000, access: read}\n"), "did you mean 'dma'?"));
    cr_assert(strstr(load_error(HEAD "  - dma: {device: nic1, addr: 0x1000, access: read}\n"), "did you mean 'nic0'?"));
    cr_assert(strstr(load_error(HEAD "  - map: {table: gtp, va: 0, pa: 0x1000, size: 4K, perm: r}\n"),
                     "did you mean 'gpt'?"));
    cr_assert(strstr(load_error(HEAD "  - dma: {device: nic0, addr: 0, access: read, expect: {fault: FS_PAGING_ENTRY_PP}}\n"),
                     "did you mean 'FS_PAGING_ENTRY_P'?"));
    const char *far = load_error(HEAD "  - dma: {device: nic0, zzzzzz: 1, addr: 0, access: read}\n");
    cr_assert(strstr(far, "unknown key 'zzzzzz'") && !strstr(far, "did you mean"), "%s", far);
}
