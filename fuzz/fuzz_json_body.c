/* fuzz_json_body.c -- libFuzzer driver for JSON request bodies: the
 * depth-limited parser, then every kind's params and response validators
 * on whatever parsed.  Validators must reject, never crash, on any value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "kind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v;
    lp_verr e;
    if (lp_json_parse((const char *)data, size, "body", &v, &e) < 0) return 0;
    size_t n;
    const lp_kind *const *kinds = lp_kind_all(&n);
    json_t *task = json_object_get(v, "task");
    json_t *resp = json_object_get(v, "response");
    for (size_t i = 0; i < n; i++) {
        const lp_kind *k = kinds[i];
        json_t *params = json_deep_copy(json_object_get(v, "params"));
        if (!params) params = json_deep_copy(v);
        int ok = json_is_object(params) && k->validate_params(params, &e) == 0;
        if (ok && task && k->validate_task) k->validate_task(params, task, &e);
        if (ok && k->validate_response)
            k->validate_response(params, task ? task : v, resp ? resp : v, "response", &e);
        json_decref(params);
    }
    json_decref(v);
    return 0;
}
