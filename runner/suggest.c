/* suggest.c: see suggest.h. */
#include "runner/suggest.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define SUGGEST_MAX_LEN 64 /* longer words are no typos of a name: no suggestion */

/* Edit distance counting an exchange of two neighbours as one edit (optimal string alignment),
 * case-insensitive (YAML keys are lower case, fault names upper). */
static unsigned edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            unsigned best = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) && tolower((unsigned char)a[i - 2]) == cb &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

void sc_suggest_init(struct sc_suggest *s, const char *word) { *s = (struct sc_suggest){.word = word, .dist = ~0u}; }

void sc_suggest_offer(struct sc_suggest *s, const char *candidate)
{
    if (!candidate || !s->word || strlen(s->word) > SUGGEST_MAX_LEN || strlen(candidate) > SUGGEST_MAX_LEN)
        return;
    unsigned d = edit_distance(s->word, candidate);
    if (d < s->dist) {
        s->dist = d;
        s->best = candidate;
    }
}

/* A typo: one edit in a short word, two in a longer one, three in a long one. */
static unsigned typo_limit(const char *word)
{
    size_t n = strlen(word);
    return n <= 4 ? 1 : n <= 8 ? 2 : 3;
}

const char *sc_suggest_text(const struct sc_suggest *s, char *buf, size_t n)
{
    if (!s->best || s->dist == 0 || s->dist > typo_limit(s->word)) {
        if (n)
            buf[0] = 0;
        return buf;
    }
    snprintf(buf, n, " (did you mean '%s'?)", s->best);
    return buf;
}
