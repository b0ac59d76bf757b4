/*
 * schema.h: the JSON Schema (draft-07) for scenario files, generated from the loader's own
 * tables of keys (runner/load_internal.h: struct field, struct ld_nest), so that an editor or a
 * validator knows exactly the keys, types, ranges and names `vtdsim run` takes. The schema is
 * looser than the loader where a rule spans several keys or names something the file defines
 * (a device, a table): those stay the loader's errors.
 */
#ifndef VTDSIM_RUNNER_SCHEMA_H
#define VTDSIM_RUNNER_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Write the schema to `out`. Every key the generator cannot describe (a mapping or sequence
 * whose nested keys the tables do not link, a link to no key, a type it does not know) is
 * described as loosely as its YAML kind and reported as one line on `problems` (NULL: not
 * reported). Returns the number of such keys: 0 when the schema covers every table.
 */
unsigned sc_schema_write(FILE *out, FILE *problems);

/* A key's description in the schema, NULL when it has none: `nest` is a definition's name
 * ("device", "step_dma", "expect"), `key` NULL for the definition itself (runner/schema_doc.c). */
const char *sc_schema_doc(const char *nest, const char *key);
/* The i-th description's definition and key (key NULL: the definition's own), false past the last. */
bool sc_schema_doc_at(size_t i, const char **nest, const char **key);

#endif
