/* fuzz_textmetric.c -- libFuzzer driver for the SQuAD metrics
 * (textmetric.c) on arbitrary bytes: a model's answer is outside input and
 * may be any bytes, invalid UTF-8 included.  The input is split at its
 * first newline into a prediction and a gold answer.  Never a crash, and
 * the scores keep their invariants: an answer matches itself exactly, F1
 * lies in [0, 1] and is symmetric. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "textmetric.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    char *gold = strchr(s, '\n');
    if (gold) *gold++ = '\0';
    for (int v = LP_SQUAD_V1; v <= LP_SQUAD_V2; v++) {
        double em, f1, em2, f12;
        lp_textmetric_squad(s, s, (lp_squad_version)v, &em, &f1);
        if (em != 1) abort();
        lp_textmetric_squad(s, gold, (lp_squad_version)v, &em, &f1);
        lp_textmetric_squad(gold, s, (lp_squad_version)v, &em2, &f12);
        if (!(f1 >= 0 && f1 <= 1) || f1 != f12 || em != em2) abort();
        const char *golds[2] = {gold, s};
        lp_textmetric_squad_max(s, golds, 2, (lp_squad_version)v, &em, &f1);
        if (em != 1 && v == LP_SQUAD_V1) abort();
    }
    free(s);
    return 0;
}
