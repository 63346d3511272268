/* test_llm.c -- the OpenAI-compatible protocol (src/llm.c): the request
 * made, replies and streamed replies read, malformed ones refused with a
 * reason; and the sealing of stored secrets (lp_auth_seal). */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "llm.h"
#include "test.h"
#include "util.h"

static json_t *parse(const char *s)
{
    json_error_t je;
    return json_loads(s, 0, &je);
}

TEST(llm_request_merges_params)
{
    json_t *msgs = parse("[{\"role\":\"user\",\"content\":\"hi\"}]");
    json_t *defs = parse("{\"temperature\":0.2,\"max_tokens\":10}");
    json_t *over = parse("{\"temperature\":0.9,\"max_tokens\":null,\"seed\":3}");
    json_t *r = lp_llm_request("m", msgs, defs, over, 0);
    CHECK_STR(json_string_value(json_object_get(r, "model")), "m");
    CHECK_NEAR(json_real_value(json_object_get(r, "temperature")), 0.9, 1e-12);
    CHECK(json_object_get(r, "max_tokens") == NULL); /* null removes a default */
    CHECK_INT(json_integer_value(json_object_get(r, "seed")), 3);
    CHECK(json_object_get(r, "stream") == NULL);
    CHECK(json_equal(json_object_get(r, "messages"), msgs));
    json_decref(r);
    r = lp_llm_request("m", msgs, NULL, NULL, 1);
    CHECK(json_is_true(json_object_get(r, "stream")));
    CHECK(json_is_true(json_object_get(json_object_get(r, "stream_options"), "include_usage")));
    json_decref(r);
    json_decref(msgs);
    json_decref(defs);
    json_decref(over);
}

TEST(llm_params_and_messages_checked)
{
    lp_verr e;
    json_t *p = parse("{\"temperature\":2.5}");
    CHECK_INT(lp_llm_check_params(p, "params", &e), LP_EINVAL);
    CHECK_STR(e.field, "params.temperature");
    json_decref(p);
    p = parse("{\"stop\":[\"a\",3]}");
    CHECK_INT(lp_llm_check_params(p, "params", &e), LP_EINVAL);
    CHECK_STR(e.field, "params.stop[1]");
    json_decref(p);
    p = parse("{\"stop\":\"x\",\"top_p\":1,\"seed\":-4,\"max_tokens\":5}");
    CHECK_INT(lp_llm_check_params(p, "params", &e), 0);
    json_decref(p);
    json_t *m = parse("[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"}]");
    CHECK_INT(lp_llm_check_messages(m, "messages", 10, &e), LP_EINVAL);
    CHECK_STR(e.field, "messages[1]");
    json_decref(m);
    m = parse("[{\"role\":\"user\",\"content\":7}]");
    CHECK_INT(lp_llm_check_messages(m, "messages", 10, &e), LP_EINVAL);
    CHECK_STR(e.field, "messages[0].content");
    json_decref(m);
    m = parse("[]");
    CHECK_INT(lp_llm_check_messages(m, "messages", 10, &e), LP_EINVAL);
    json_decref(m);
    m = parse("[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"q\"}]");
    CHECK_INT(lp_llm_check_messages(m, "messages", 10, &e), 0);
    CHECK_INT(lp_llm_check_messages(m, "messages", 1, &e), LP_EINVAL);
    CHECK_STR(lp_llm_last_user(m), "q");
    json_decref(m);
}

TEST(llm_reply_read)
{
    lp_llm_reply r;
    char err[256];
    const char *ok = "{\"model\":\"gpt-x\",\"choices\":[{\"message\":{\"role\":\"assistant\","
                     "\"content\":\"Paris.\"},\"finish_reason\":\"stop\"}],\"usage\":{"
                     "\"prompt_tokens\":12,\"completion_tokens\":2}}";
    CHECK_INT(lp_llm_parse(ok, strlen(ok), &r, err, sizeof err), 0);
    CHECK_STR(r.content, "Paris.");
    CHECK_STR(r.model, "gpt-x");
    CHECK_STR(r.finish, "stop");
    CHECK_INT(r.prompt_tokens, 12);
    CHECK_INT(r.completion_tokens, 2);
    lp_llm_reply_fini(&r);
    /* no usage: -1; null content (a refusal): "" */
    const char *bare = "{\"choices\":[{\"message\":{\"content\":null}}]}";
    CHECK_INT(lp_llm_parse(bare, strlen(bare), &r, err, sizeof err), 0);
    CHECK_STR(r.content, "");
    CHECK_INT(r.prompt_tokens, -1);
    lp_llm_reply_fini(&r);
    static const char *const bad[][2] = {
        {"<html>", "not a JSON object"},
        {"[1]", "not a JSON object"},
        {"{\"choices\":[]}", "no choices"},
        {"{\"choices\":[{\"message\":7}]}", "message is missing"},
        {"{\"choices\":[{\"message\":{\"content\":[1]}}]}", "content is an array"},
        {"{\"error\":{\"message\":\"quota exceeded\"}}", "quota exceeded"},
        {"", "not a JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(lp_llm_parse(bad[i][0], strlen(bad[i][0]), &r, err, sizeof err), LP_EINVAL);
        CHECK(strstr(err, bad[i][1]) != NULL);
        CHECK(r.content == NULL);
    }
}

static void collect(void *ctx, const char *d, size_t n)
{
    lp_buf_append(ctx, d, n);
}

TEST(llm_stream_read_in_any_pieces)
{
    const char *s = ": keep-alive\n\n"
                    "data: {\"model\":\"m1\",\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\r\n\r\n"
                    "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"
                    "data:{\"choices\":[{\"delta\":{\"content\":\"lo \\u00e9\"},\"finish_reason\":null}]}\n\n"
                    "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}\n\n"
                    "data: [DONE]\n\n";
    /* every split point gives the same result */
    size_t n = strlen(s);
    for (size_t cut = 0; cut <= n; cut += 7) {
        lp_llm_stream st;
        lp_buf seen = {0};
        lp_llm_stream_init(&st, collect, &seen);
        CHECK_INT(lp_llm_stream_feed(&st, s, cut), 0);
        CHECK_INT(lp_llm_stream_feed(&st, s + cut, n - cut), 0);
        CHECK_INT(lp_llm_stream_end(&st), 0);
        CHECK_STR(st.reply.content, "Hello \xc3\xa9");
        CHECK_STR(seen.data, "Hello \xc3\xa9");
        CHECK_STR(st.reply.model, "m1");
        CHECK_STR(st.reply.finish, "stop");
        CHECK_INT(st.reply.completion_tokens, 2);
        CHECK(st.done);
        lp_buf_fini(&seen);
        lp_llm_stream_fini(&st);
    }
    lp_llm_stream st;
    lp_llm_stream_init(&st, NULL, NULL);
    const char *bad = "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: <oops>\n\n";
    CHECK_INT(lp_llm_stream_feed(&st, bad, strlen(bad)), LP_EINVAL);
    CHECK(strstr(st.err, "not a JSON object") != NULL);
    CHECK_INT(lp_llm_stream_end(&st), LP_EINVAL);
    lp_llm_stream_fini(&st);
    lp_llm_stream_init(&st, NULL, NULL);
    CHECK_INT(lp_llm_stream_feed(&st, "data: [DONE]\n", 13), 0);
    CHECK_INT(lp_llm_stream_end(&st), LP_EINVAL); /* nothing came */
    lp_llm_stream_fini(&st);
    lp_llm_stream_init(&st, NULL, NULL);
    const char *err = "data: {\"error\":{\"message\":\"overloaded\"}}\n\n";
    CHECK_INT(lp_llm_stream_feed(&st, err, strlen(err)), LP_EINVAL);
    CHECK(strstr(st.err, "overloaded") != NULL);
    lp_llm_stream_fini(&st);
}

TEST(auth_seal_round_trip_and_tamper)
{
    char *err = NULL;
    unsetenv("LOUPE_SECRET");
    CHECK_INT(lp_auth_init(lp_test_tmpdir(), &err), 0);
    free(err);
    char *a = lp_auth_seal("sk-live-123", "model_endpoint");
    char *b = lp_auth_seal("sk-live-123", "model_endpoint");
    CHECK(strncmp(a, "v1.", 3) == 0);
    CHECK(strcmp(a, b) != 0); /* a fresh nonce each time */
    CHECK(strstr(a, "sk-live") == NULL);
    char *plain = NULL;
    CHECK_INT(lp_auth_unseal(a, "model_endpoint", &plain), 0);
    CHECK_STR(plain, "sk-live-123");
    free(plain);
    CHECK_INT(lp_auth_unseal(a, "webhook", &plain), LP_EINVAL); /* another purpose */
    CHECK(plain == NULL);
    a[strlen(a) - 2] = a[strlen(a) - 2] == 'A' ? 'B' : 'A';
    CHECK_INT(lp_auth_unseal(a, "model_endpoint", &plain), LP_EINVAL);
    CHECK_INT(lp_auth_unseal("v1.", "model_endpoint", &plain), LP_EINVAL);
    CHECK_INT(lp_auth_unseal("plain", "model_endpoint", &plain), LP_EINVAL);
    CHECK_INT(lp_auth_unseal("v1.!!!", "model_endpoint", &plain), LP_EINVAL);
    char *empty = lp_auth_seal("", "x");
    CHECK_INT(lp_auth_unseal(empty, "x", &plain), 0);
    CHECK_STR(plain, "");
    free(plain);
    free(empty);
    free(a);
    free(b);
}
