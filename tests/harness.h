/* Shared helpers for baton's cmocka tests: fixture paths and file reading. */
#ifndef BATON_TEST_HARNESS_H
#define BATON_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contract/contract.h"

/* The source tree, from BATON_SOURCE_DIR (set by ctest), else ".". */
static inline const char *source_dir(void)
{
    const char *d = getenv("BATON_SOURCE_DIR");
    return d && *d ? d : ".";
}

/* Reads SOURCE_DIR/rel into a heap string the caller frees; fails the test
 * when the file is missing. */
static inline char *read_fixture(const char *rel, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", source_dir(), rel);
    size_t n = 0;
    char *text = file_read(path, &n);
    if (!text) fail_msg("cannot read fixture %s", path);
    if (len) *len = n;
    return text;
}

/* Parses a contract from a string; on failure renders the errors into
 * `rendered` (when given) and returns NULL. */
static inline contract *parse_string(const char *name, const char *yaml, strbuf *rendered)
{
    errors errs;
    errors_init(&errs, name, yaml, strlen(yaml));
    contract *c = contract_parse(name, yaml, strlen(yaml), &errs);
    if (!c && rendered) {
        errors_sort(&errs);
        errors_render(&errs, rendered);
    }
    return c;
}

/* A contract from a string, or the test fails with its errors. */
static inline contract *must_parse(const char *name, const char *yaml)
{
    strbuf report;
    strbuf_init(&report);
    contract *c = parse_string(name, yaml, &report);
    if (!c) fail_msg("%s has errors:\n%s", name, report.data);
    strbuf_free(&report);
    return c;
}

/* A contract file under the source tree, such as "contracts/example.yaml",
 * or the test fails with its errors. */
static inline contract *must_load(const char *rel)
{
    char *text = read_fixture(rel, NULL);
    contract *c = must_parse(rel, text);
    free(text);
    return c;
}

#endif
