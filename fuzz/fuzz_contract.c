/* libFuzzer target: arbitrary bytes as a whole contract file.
 *
 * Drives contract_parse() (YAML reader, loaders, checker, compiler) and then
 * the error renderers over whatever errors came back, so an error whose
 * offset or length does not fit the source is caught in the renderer too.
 * When the bytes happen to be a valid contract, the plain-words explanation
 * and every program's disassembly are rendered as well.
 *
 * The bytes are handed over exactly as libFuzzer gives them: no NUL after
 * them, since contract.h does not ask for one, so a read past `len` shows up
 * as an AddressSanitizer report. Nothing is printed unless a sanitizer
 * reports. */
#include "contract/contract.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void render_contract(const contract *c, strbuf *out)
{
    contract_explain(c, out);
    for (size_t i = 0; i < contract_signal_count(c); i++)
        if (contract_signal(c, i)->when) program_disassemble(c, contract_signal(c, i)->when, out);
    for (size_t i = 0; i < contract_fit_count(c); i++)
        if (contract_fit(c, i)->when) program_disassemble(c, contract_fit(c, i)->when, out);
    for (size_t i = 0; i < contract_gate_count(c); i++)
        if (contract_gate(c, i)->when) program_disassemble(c, contract_gate(c, i)->when, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* libFuzzer's buffer is exactly `size` bytes long; an empty input still
     * needs a valid pointer for the parser. */
    const char *text = size ? (const char *)data : "";
    errors errs;
    errors_init(&errs, "fuzz.yaml", text, size);

    contract *c = contract_parse("fuzz.yaml", text, size, &errs);

    strbuf out;
    strbuf_init(&out);
    errors_sort(&errs);
    errors_render(&errs, &out);
    errors_render_json(&errs, &out);
    if (c) render_contract(c, &out);

    strbuf_free(&out);
    contract_free(c);
    return 0;
}
