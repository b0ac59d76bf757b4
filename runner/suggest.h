/*
 * suggest.h: "did you mean ...?" for the loader's errors: the candidate closest to a misspelt
 * word (a key, a step kind, a fault, device or table name) by edit distance, when it is close
 * enough to be a typo.
 */
#ifndef VTDSIM_RUNNER_SUGGEST_H
#define VTDSIM_RUNNER_SUGGEST_H

#include <stddef.h>

struct sc_suggest {
    const char *word;
    const char *best;
    unsigned dist;
};

void sc_suggest_init(struct sc_suggest *s, const char *word);
/* Consider one candidate (NULL is ignored). */
void sc_suggest_offer(struct sc_suggest *s, const char *candidate);
/* " (did you mean 'x'?)" for the best candidate close enough to be a typo, else "". */
const char *sc_suggest_text(const struct sc_suggest *s, char *buf, size_t n);

#endif
