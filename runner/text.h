/*
 * text.h: text that came from input (file names, YAML scalars, messages quoting them) written
 * safely where it goes: a terminal, a JSON string, an XML document (issue 13).
 *
 * Input may hold any bytes: invalid UTF-8, control characters, terminal escape sequences.
 * Each writer keeps valid UTF-8 that its destination allows as it is and spells everything else
 * visibly: a byte that is not valid UTF-8 as the four characters \xHH, a character the
 * destination forbids or a terminal would act on (C0 and C1 controls, DEL; U+FFFE and U+FFFF in
 * XML) as \u{HHHH}... in the form that destination reads (\u00HH in JSON). Nothing is dropped, so
 * two different names never print the same.
 */
#ifndef VTDSIM_RUNNER_TEXT_H
#define VTDSIM_RUNNER_TEXT_H

#include <stdio.h>

/* For a terminal or log: newline and tab kept; other controls, DEL, C1, bad bytes escaped. */
void sc_text_terminal(FILE *f, const char *s);
/* A JSON string, quotes included (RFC 8259: valid UTF-8, controls escaped). */
void sc_text_json(FILE *f, const char *s);
/* XML 1.0 character data or attribute value (section 2.2 Char: no C0 but tab, LF, CR; no
 * U+FFFE, U+FFFF), with & < > " as entities and CR as a character reference. */
void sc_text_xml(FILE *f, const char *s);

#endif
