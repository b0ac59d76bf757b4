/* text.c: input text escaped for terminals, JSON and XML (see text.h). */
#include "runner/text.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * The length of the valid UTF-8 sequence at s (1..4) and its code point, or 0 when s[0] does not
 * start one: overlong forms, surrogates and code points above U+10FFFF are invalid (RFC 3629).
 */
static unsigned utf8_decode(const unsigned char *s, uint32_t *cp)
{
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    unsigned len = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : s[0] >= 0xe0 && s[0] < 0xf0 ? 3
                 : s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : 0;
    if (!len)
        return 0;
    uint32_t c = len == 1 ? s[0] : s[0] & (0x7fu >> len);
    for (unsigned i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min[len] || (c >= 0xd800 && c < 0xe000) || c > 0x10ffff)
        return 0;
    *cp = c;
    return len;
}

/* Calls put(f, s, len, cp, valid) for each character or invalid byte of s. */
typedef void (*put_fn)(FILE *f, const unsigned char *s, unsigned len, uint32_t cp, bool valid);

static void each_char(FILE *f, const char *text, put_fn put)
{
    const unsigned char *s = (const unsigned char *)text;
    while (s && *s) {
        uint32_t cp = 0;
        unsigned len = utf8_decode(s, &cp);
        put(f, s, len ? len : 1, cp, len != 0);
        s += len ? len : 1;
    }
}

static bool is_control(uint32_t cp) { return cp < 0x20 || (cp >= 0x7f && cp < 0xa0); }

static void put_terminal(FILE *f, const unsigned char *s, unsigned len, uint32_t cp, bool valid)
{
    if (!valid)
        fprintf(f, "\\x%02x", s[0]);
    else if (is_control(cp) && cp != '\n' && cp != '\t')
        fprintf(f, cp < 0x80 ? "\\x%02x" : "\\u%04x", (unsigned)cp);
    else
        fwrite(s, 1, len, f);
}

static void put_json(FILE *f, const unsigned char *s, unsigned len, uint32_t cp, bool valid)
{
    if (!valid)
        fprintf(f, "\\\\x%02x", s[0]); /* the text \xHH: JSON cannot carry the byte itself */
    else if (cp == '"' || cp == '\\')
        fprintf(f, "\\%c", (char)cp);
    else if (cp == '\n')
        fputs("\\n", f);
    else if (cp == '\t')
        fputs("\\t", f);
    else if (is_control(cp))
        fprintf(f, "\\u%04x", (unsigned)cp);
    else
        fwrite(s, 1, len, f);
}

static void put_xml(FILE *f, const unsigned char *s, unsigned len, uint32_t cp, bool valid)
{
    if (!valid)
        fprintf(f, "\\x%02x", s[0]);
    else if (cp == '<')
        fputs("&lt;", f);
    else if (cp == '>')
        fputs("&gt;", f);
    else if (cp == '&')
        fputs("&amp;", f);
    else if (cp == '"')
        fputs("&quot;", f);
    else if (cp == '\r')
        fputs("&#xD;", f);
    else if ((cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0xfffe || cp == 0xffff)
        fprintf(f, cp < 0x80 ? "\\x%02x" : "\\u%04x", (unsigned)cp);
    else
        fwrite(s, 1, len, f);
}

void sc_text_terminal(FILE *f, const char *s) { each_char(f, s, put_terminal); }

void sc_text_json(FILE *f, const char *s)
{
    fputc('"', f);
    each_char(f, s, put_json);
    fputc('"', f);
}

void sc_text_xml(FILE *f, const char *s) { each_char(f, s, put_xml); }
