/* test_import.c -- the CSV column mapping: default targets by header name,
 * an explicit mapping overriding them, mappings refused before any row,
 * and the task body a row becomes (tags, attachments, numbers, UTF-8). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "csvfile.h"
#include "http.h"
#include "import.h"
#include "test.h"

/* The mapping of header (n names) under spec as "column=target;..." text
 * for easy checking, or the error field and message. */
static const char *map_text(const char *const *header, size_t n, const char *spec)
{
    static char out[1024];
    lp_import_col cols[16];
    lp_verr e;
    if (lp_import_map(header, n, spec, cols, &e) < 0) {
        snprintf(out, sizeof out, "error %s: %s", e.field, e.message);
        return out;
    }
    static const char *const names[] = {"-",        "data",  "metadata", "unique_id",  "priority",
                                        "batch_id", "batch", "tags",     "attachments"};
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, sizeof out - len, "%s%s=%s%s%s", i ? ";" : "", header[i],
                 names[cols[i].target], cols[i].key[0] ? "." : "", cols[i].key);
    }
    return out;
}

TEST(import_map_defaults_by_header_name)
{
    const char *h[] = {"text",  "unique_id", "priority", "batch_id", "tags",
                       "image", "audio",     "video",    "source",   ""};
    CHECK_STR(map_text(h, 10, NULL),
              "text=data.text;unique_id=unique_id;priority=priority;batch_id=batch_id;tags=tags;"
              "image=attachments.image;audio=attachments.audio;video=attachments.video;"
              "source=data.source;=-");
    /* a header "data.x" is a data key of that name, not a path */
    const char *h2[] = {"data.x", "-"};
    CHECK_STR(map_text(h2, 2, NULL), "data.x=data.data.x;-=data.-");
}

TEST(import_map_spec_overrides_named_columns)
{
    const char *h[] = {"review", "img", "id", "notes", "lang", "when: utc"};
    CHECK_STR(map_text(h, 6,
                       " review:data.text, img:attachments.image,id:unique_id,notes:-,"
                       "lang:metadata.lang,when: utc:metadata.when"),
              "review=data.text;img=attachments.image;id=unique_id;notes=-;lang=metadata.lang;"
              "when: utc=metadata.when");
    /* two columns may both feed tags or attachments */
    const char *h2[] = {"a", "b", "c", "d"};
    CHECK_STR(map_text(h2, 4, "a:tags,b:tags,c:attachments.image,d:attachments.image"),
              "a=tags;b=tags;c=attachments.image;d=attachments.image");
}

TEST(import_map_refuses_bad_mappings_and_headers)
{
    const char *h[] = {"text", "id"};
    CHECK_STR(map_text(h, 2, "review:data.text"),
              "error columns: the header has no column \"review\"");
    CHECK(strstr(map_text(h, 2, "text:answer"), "error columns: \"answer\" is not a target"));
    CHECK(strstr(map_text(h, 2, "text:attachments.picture"), "is not a target"));
    CHECK(strstr(map_text(h, 2, "text:data."), "is not a target"));
    CHECK(strstr(map_text(h, 2, "text"), "error columns: \"text\" is not COLUMN:TARGET"));
    CHECK_STR(map_text(h, 2, "id:data.text"),
              "error columns: columns \"text\" and \"id\" both go to data.text");
    const char *dup[] = {"text", "text"};
    CHECK_STR(map_text(dup, 2, NULL), "error body: column \"text\" appears twice in the header");
    const char *bad[] = {"ok", "\xff\xfe"};
    CHECK_STR(map_text(bad, 2, NULL), "error body: column 2 of the header is not UTF-8");
}

/* The task a row becomes, as compact JSON with sorted keys. */
static char *row_task(const char *const *header, const char *const *row, size_t n, const char *spec)
{
    lp_import_col cols[16];
    lp_verr e;
    if (lp_import_map(header, n, spec, cols, &e) < 0) return lp_sprintf("map %s", e.message);
    json_t *t;
    if (lp_import_csv_task(cols, row, n, &t, &e) < 0)
        return lp_sprintf("error %s: %s", e.field, e.message);
    char *s = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(t);
    return s;
}

TEST(import_csv_row_becomes_a_task)
{
    const char *h[] = {"unique_id", "text", "priority", "tags", "image", "more", "caption"};
    const char *r[] = {"u1", "héllo", "-3", " a|b||c ", "https://x/1.png", "x", "plain words"};
    char *s = row_task(h, r, 7, "more:tags,caption:attachments.text");
    CHECK_STR(s, "{\"attachments\":[{\"type\":\"image\",\"url\":\"https://x/1.png\"},"
                 "{\"content\":\"plain words\",\"type\":\"text\"}],"
                 "\"data\":{\"text\":\"h\xc3\xa9llo\"},\"priority\":-3,"
                 "\"tags\":[\"a\",\"b\",\"c\",\"x\"],\"unique_id\":\"u1\"}");
    free(s);
    /* empty cells leave the fields out (data keeps an empty string) */
    const char *empty[] = {"", "", "", "", "", "", ""};
    s = row_task(h, empty, 7, NULL);
    CHECK_STR(s, "{\"data\":{\"caption\":\"\",\"more\":\"\",\"text\":\"\"},\"tags\":[]}");
    free(s);
    /* a priority that is no number stays a string, for validation to refuse */
    const char *h2[] = {"priority", "batch_id"};
    const char *r2[] = {"high", "7"};
    s = row_task(h2, r2, 2, NULL);
    CHECK_STR(s, "{\"batch_id\":7,\"data\":{},\"priority\":\"high\"}");
    free(s);
    const char *r3[] = {"1", "\xc3"};
    s = row_task(h2, r3, 2, "batch_id:data.b");
    CHECK_STR(s, "error data.b: is not valid UTF-8");
    free(s);
}

TEST(csv_from_memory_keeps_hash_lines_as_data)
{
    static const char doc[] = "text\n#hashtag,\n\n\"a\nb\"";
    lp_csv *c;
    CHECK_INT(lp_csv_open_mem(doc, sizeof doc - 1, 0, &c), 0);
    const char *const *f;
    size_t n;
    CHECK_INT(lp_csv_next(c, &f, &n), 1);
    CHECK_INT(lp_csv_next(c, &f, &n), 1);
    CHECK_STR(f[0], "#hashtag");
    CHECK_INT(n, 2);
    CHECK_INT(lp_csv_line(c), 2);
    CHECK_INT(lp_csv_next(c, &f, &n), 1);
    CHECK_STR(f[0], "a\nb");
    CHECK_INT(lp_csv_line(c), 4);
    CHECK_INT(lp_csv_next(c, &f, &n), 0);
    lp_csv_close(c);
}

/* lp_json_canonical_members: a value is taken as it came only where its
 * text is what json_dumps writes; the others are found NULL (and encoded). */
TEST(import_canonical_members_match_json_dumps)
{
    static const struct {
        const char *doc;
        int taken;
    } cases[] = {
        {"{\"v\":{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}}", 1},
        {"{\"v\": {\"a\":-12} , \"w\":1}", 1},
        {"  {\"w\":{\"v\":[1]},\"v\":[2]}\r\n", 1},
        {"{\"v\":[{\"x\":\"}]\\\"[{\"}],\"z\":0}", 1},
        {"{\"v\":\"caf\xc3\xa9\"}", 1},
        {"{\"v\":\"q\\\"\\\\\\n\\t\\b\\f\\r\"}", 1},
        {"{\"v\":9223372036854775807}", 1},
        {"{\"v\":[],\"x\":{}}", 1},
        {"{\"v\":{\"a\": 1}}", 0},
        {"{\"v\":[1, 2]}", 0},
        {"{\"v\":1.5}", 0},
        {"{\"v\":{\"k\":1.0}}", 0},
        {"{\"v\":1e3}", 0},
        {"{\"v\":[-0]}", 0},
        {"{\"v\":\"caf\\u00e9\"}", 0},
        {"{\"v\":\"\\u001F\"}", 0},
        {"{\"v\":\"a\\/b\"}", 0},
        {"{\"v\":null}", 0},
        {"{\"\\u0076\":[1]}", 0},
        {"{\"w\":1}", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *doc = cases[i].doc;
        json_t *obj;
        lp_verr e;
        CHECK_INT(lp_json_parse(doc, strlen(doc), "", &obj, &e), 0);
        static const char *const keys[] = {"x", "v"};
        const char *span[2];
        size_t len[2];
        lp_json_canonical_members(doc, strlen(doc), keys, 2, span, len);
        CHECK_INT(span[1] != NULL, cases[i].taken);
        if (span[1]) {
            char *dumped = json_dumps(json_object_get(obj, "v"), LP_JSON_DUMP);
            CHECK_INT(len[1], strlen(dumped));
            CHECK(memcmp(span[1], dumped, len[1]) == 0);
            free(dumped);
        }
        json_decref(obj);
    }
}
