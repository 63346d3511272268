/* test_convert_conll.c -- the CoNLL-2003 import converter on sources built
 * in memory: IOB1, IOB2 and BIOES tags, four and two columns, tabs,
 * Windows line ends, non-ASCII words (offsets in code points), documents
 * and sentences as tasks, labels written with "_", bad lines (the whole
 * document left out, reported at file:line), unique_ids, and the round
 * trip through export_conll.c byte for byte. */
#include <stdlib.h>

#include "convert.h"
#include "export.h"
#include "test_kinds.h"

#define PARAMS "{'labels': ['PER', 'LOC', 'ORG', 'MISC', 'BIG ORG', 'B_X']}"
#define DOC    "-DOCSTART- -X- -X- O\n\n"

/* A conversion: the project, the source and the converter's output. */
typedef struct conv {
    lp_project p;
    lp_src src;
    lp_convert c;
    json_t *tasks; /* the emitted tasks, parsed */
} conv;

/* Converts the files (name, data pairs; n of them) with results or as
 * predictions into *v; 0, or -1 with a message. */
static int convert(conv *v, int results, size_t n, const char *const *files)
{
    lp_verr e;
    memset(v, 0, sizeof *v);
    v->p.kind = &lp_kind_namedentityrecognition;
    if (kt_params(v->p.kind, PARAMS, &v->p.params, &e)) return -1;
    for (size_t i = 0; i < n; i++)
        lp_src_add_text(&v->src, files[2 * i], files[2 * i + 1], strlen(files[2 * i + 1]));
    lp_src_done(&v->src);
    v->c = (lp_convert){.project = &v->p, .src = &v->src, .results = results, .format = "conll"};
    if (lp_convert_conll.run(&v->c, &e) != 0) {
        fprintf(stderr, "run failed: %s: %s\n", e.field, e.message);
        return -1;
    }
    v->tasks = json_array();
    const char *s = v->c.out.data ? v->c.out.data : "";
    for (const char *nl; (nl = strchr(s, '\n')); s = nl + 1) {
        json_error_t err;
        json_t *t = json_loadb(s, (size_t)(nl - s), 0, &err);
        if (!t) {
            fprintf(stderr, "not JSON: %s\n", err.text);
            return -1;
        }
        json_array_append_new(v->tasks, t);
    }
    return 0;
}

static void conv_fini(conv *v)
{
    json_decref(v->tasks);
    json_decref(v->p.params);
    lp_convert_fini(&v->c);
    lp_src_fini(&v->src);
}

/* The response of task i (its result or its prediction's). */
static const json_t *response_of(const conv *v, size_t i)
{
    const json_t *t = json_array_get(v->tasks, i), *r = json_object_get(t, "result");
    if (r) return r;
    return json_object_get(json_array_get(json_object_get(t, "predictions"), 0), "response");
}

/* Task i as "text|start-end:label:text ...", for compact checks. */
static char *summary(const conv *v, size_t i)
{
    const json_t *t = json_array_get(v->tasks, i), *sp;
    lp_buf b = {0};
    size_t k;
    lp_buf_printf(&b, "%s|",
                  json_string_value(json_object_get(json_object_get(t, "data"), "text")));
    json_array_foreach(json_object_get(response_of(v, i), "spans"), k, sp) lp_buf_printf(
        &b, "%s%lld-%lld:%s:%s", k ? " " : "", json_integer_value(json_object_get(sp, "start")),
        json_integer_value(json_object_get(sp, "end")),
        json_string_value(json_object_get(sp, "label")),
        json_string_value(json_object_get(sp, "text")));
    return b.data;
}

#define CHECK_TASK(v, i, want)           \
    do {                                 \
        char *got_ = summary(&v, i);     \
        int ok_ = !strcmp(got_, want);   \
        if (!ok_) CHECK_STR(got_, want); \
        free(got_);                      \
    } while (0)

/* Runs the kind's checks (text, spans inside it, quoted text matching,
 * labels of the project) on every emitted task: the index of the first
 * rejected, with e filled, or -1. */
static long kind_rejects(const conv *v, lp_verr *e)
{
    for (size_t i = 0; i < json_array_size(v->tasks); i++) {
        const json_t *t = json_array_get(v->tasks, i);
        if (v->p.kind->validate_task(v->p.params, t, e) ||
            v->p.kind->validate_response(v->p.params, t, response_of(v, i), "response", e))
            return (long)i;
    }
    return -1;
}

/* Checks that the kind accepts every task, printing why if not. */
#define CHECK_KIND_ACCEPTS(v)                                                               \
    do {                                                                                    \
        lp_verr e_;                                                                         \
        long k_ = kind_rejects(&v, &e_);                                                    \
        if (k_ >= 0) {                                                                      \
            lp_test_fail(__FILE__, __LINE__, "task %ld: %s: %s", k_, e_.field, e_.message); \
            return;                                                                         \
        }                                                                                   \
    } while (0)

TEST(convert_conll_iob2_documents_of_sentences)
{
    /* Two documents of the four-column file; the first has two sentences
     * (joined by a newline), an entity at the start and one at the end of
     * a sentence, and two adjacent LOC entities (B- B-). */
    const char *files[] = {"train.conll", DOC "EU NNP B-NP B-ORG\n"
                                              "rejects VBZ B-VP O\n"
                                              "German JJ B-NP B-MISC\n"
                                              "\n"
                                              "Peter NNP B-NP B-PER\n"
                                              "Blackburn NNP I-NP I-PER\n"
                                              "\n" DOC "Paris NNP B-NP B-LOC\n"
                                              "Lyon NNP I-NP B-LOC\n"
                                              "Saint NNP I-NP I-LOC\n"
                                              "Denis NNP I-NP I-LOC\n"
                                              "\n"};
    conv v;
    CHECK(convert(&v, 1, 1, files) == 0);
    CHECK_INT(json_array_size(v.tasks), 2);
    CHECK_INT(v.c.nbad, 0);
    CHECK_TASK(v, 0,
               "EU rejects German\nPeter Blackburn|0-2:ORG:EU 11-17:MISC:German "
               "18-33:PER:Peter Blackburn");
    CHECK_TASK(v, 1, "Paris Lyon Saint Denis|0-5:LOC:Paris 6-22:LOC:Lyon Saint Denis");
    CHECK_STR(v.c.where[0], "train.conll:1");
    CHECK_STR(v.c.where[1], "train.conll:10");
    /* Results are the task's result, unique_ids the text's hash. */
    const json_t *t = json_array_get(v.tasks, 0);
    CHECK(json_object_get(t, "result") != NULL);
    CHECK(json_object_get(t, "predictions") == NULL);
    const char *uid = json_string_value(json_object_get(t, "unique_id"));
    CHECK(uid && !strncmp(uid, "conll:", 6) && strlen(uid) == 22);
    CHECK_KIND_ACCEPTS(v);
    conv_fini(&v);
}

TEST(convert_conll_iob1_starts_an_entity_at_i_after_o_or_another_type)
{
    /* The original CoNLL-2003: I- everywhere, B- only between two adjacent
     * entities of one type; an I- after another type starts a new one. */
    const char *files[] = {"body", "-DOCSTART- -X- O O\n\n"
                                   "U.N. NNP I-NP I-ORG\n"
                                   "official NN I-NP O\n"
                                   "Ekeus NNP I-NP I-PER\n"
                                   "Rolf NNP I-NP B-PER\n"
                                   "Smith NNP I-NP I-PER\n"
                                   "Baghdad NNP I-NP I-LOC\n"
                                   "Iraq NNP I-NP I-MISC\n"
                                   "\n"};
    conv v;
    CHECK(convert(&v, 0, 1, files) == 0);
    CHECK_INT(json_array_size(v.tasks), 1);
    CHECK_TASK(v, 0,
               "U.N. official Ekeus Rolf Smith Baghdad Iraq|0-4:ORG:U.N. 14-19:PER:Ekeus "
               "20-30:PER:Rolf Smith 31-38:LOC:Baghdad 39-43:MISC:Iraq");
    /* As predictions, by the converter's model. */
    const json_t *pr =
        json_array_get(json_object_get(json_array_get(v.tasks, 0), "predictions"), 0);
    CHECK_STR(json_string_value(json_object_get(pr, "model")), "import:conll");
    CHECK(json_object_get(pr, "score") == NULL);
    CHECK(json_object_get(json_array_get(v.tasks, 0), "result") == NULL);
    CHECK_KIND_ACCEPTS(v);
    conv_fini(&v);
}

TEST(convert_conll_bioes_and_bilou)
{
    const char *files[] = {"x.bio", "Ann S-PER\n"
                                    "met O\n"
                                    "New B-LOC\n"
                                    "York E-LOC\n"
                                    "Bob E-PER\n"
                                    "Kay S-PER\n"
                                    "Lee S-PER\n"
                                    "in O\n"
                                    "Big B-ORG\n"
                                    "Co L-ORG\n"
                                    "Zed U-PER\n"
                                    "\n"};
    conv v;
    CHECK(convert(&v, 1, 1, files) == 0);
    CHECK_TASK(v, 0,
               "Ann met New York Bob Kay Lee in Big Co Zed|0-3:PER:Ann 8-16:LOC:New York "
               "17-20:PER:Bob 21-24:PER:Kay 25-28:PER:Lee 32-38:ORG:Big Co 39-42:PER:Zed");
    conv_fini(&v);
}

TEST(convert_conll_two_columns_tabs_crlf_and_sentences)
{
    /* No -DOCSTART-: each sentence is a task.  Tabs and CRLF, a BOM, white
     * space at the line ends, several blank lines; an I- that ends one
     * sentence and one that starts the next are two entities. */
    const char *files[] = {"wnut.txt", "\xEF\xBB\xBF"
                                       "Smith\tI-PER\r\n"
                                       "called\tO \r\n"
                                       "John\tI-PER\r\n"
                                       "\r\n"
                                       "\r\n"
                                       "Doe  I-PER\r\n"
                                       "left \t O\r\n"
                                       "\r\n"
                                       "Nobody\tO\r\n"};
    conv v;
    CHECK(convert(&v, 1, 1, files) == 0);
    CHECK_INT(json_array_size(v.tasks), 3);
    CHECK_TASK(v, 0, "Smith called John|0-5:PER:Smith 13-17:PER:John");
    CHECK_TASK(v, 1, "Doe left|0-3:PER:Doe");
    CHECK_TASK(v, 2, "Nobody|"); /* a sentence without entities: spans [] */
    CHECK_INT(json_array_size(json_object_get(response_of(&v, 2), "spans")), 0);
    CHECK_STR(v.c.where[0], "wnut.txt:1");
    CHECK_STR(v.c.where[1], "wnut.txt:6");
    CHECK_STR(v.c.where[2], "wnut.txt:9");
    conv_fini(&v);
    /* In a document, a sentence end also ends an entity. */
    const char *doc[] = {"body", DOC "Smith I-PER\n\nJohn I-PER\n"};
    CHECK(convert(&v, 1, 1, doc) == 0);
    CHECK_TASK(v, 0, "Smith\nJohn|0-5:PER:Smith 6-10:PER:John");
    conv_fini(&v);
}

TEST(convert_conll_non_ascii_offsets_in_code_points)
{
    const char *files[] = {"body", DOC "Zoë B-PER\n"
                                       "visited O\n"
                                       "東京 B-LOC\n"
                                       "😀 O\n"
                                       "Ünïcode B-MISC\n"
                                       "Straße I-MISC\n"};
    conv v;
    CHECK(convert(&v, 1, 1, files) == 0);
    CHECK_TASK(v, 0,
               "Zoë visited 東京 😀 Ünïcode Straße|0-3:PER:Zoë 12-14:LOC:東京 "
               "17-31:MISC:Ünïcode Straße");
    CHECK_KIND_ACCEPTS(v);
    conv_fini(&v);
}

TEST(convert_conll_labels_written_with_underscores)
{
    /* "BIG_ORG" is the export's "BIG ORG"; "B_X" is a label of its own;
     * "NEW_ONE" is neither and is left to the kind. */
    const char *files[] = {"body", "Acme B-BIG_ORG\nCorp I-BIG_ORG\nx B-B_X\ny B-NEW_ONE\n"};
    conv v;
    CHECK(convert(&v, 1, 1, files) == 0);
    CHECK_TASK(v, 0, "Acme Corp x y|0-9:BIG ORG:Acme Corp 10-11:B_X:x 12-13:NEW_ONE:y");
    lp_verr e;
    CHECK_INT(kind_rejects(&v, &e), 0);
    CHECK_STR(e.field, "response.spans[2].label");
    CHECK(strstr(e.message, "\"NEW_ONE\" is not in the project's labels"));
    conv_fini(&v);
}

/* The bad item k's field, where and message (containing want). */
static int bad_is(const conv *v, size_t k, const char *field, const char *where, const char *want)
{
    const struct lp_convert_bad *b = &v->c.bad[k];
    if (strcmp(b->e.field, field) || strcmp(b->where, where) || !strstr(b->e.message, want)) {
        fprintf(stderr, "bad item %zu: %s at %s: %s\n", k, b->e.field, b->where, b->e.message);
        return 0;
    }
    return 1;
}

TEST(convert_conll_bad_lines_leave_their_document_out)
{
    /* Document 1 has a line with one column and a bad tag: it is one bad
     * item at the first of them.  Document 2 is good.  Document 3 has a
     * line that is not UTF-8; document 4 has no words. */
    const char *files[] = {"d.conll", DOC "A O\n"
                                          "lonely\n"
                                          "B X-PER\n"
                                          "\n" DOC "Good B-PER\n"
                                          "\n" DOC "Bad\xC3( O\n"
                                          "\n" DOC DOC "Last BAD\n"};
    conv v;
    CHECK(convert(&v, 1, 1, files) == 0);
    CHECK_INT(json_array_size(v.tasks), 1);
    CHECK_TASK(v, 0, "Good|0-4:PER:Good");
    CHECK_STR(v.c.where[0], "d.conll:7");
    CHECK_INT(v.c.nbad, 4);
    CHECK(bad_is(&v, 0, "tag", "d.conll:4", "line 4 has one column, \"lonely\""));
    CHECK(bad_is(&v, 0, "tag", "d.conll:4", "the document from line 1 is left out (2 bad lines)"));
    CHECK(bad_is(&v, 1, "text", "d.conll:13", "line 13 is not UTF-8 text"));
    CHECK(bad_is(&v, 2, "tokens", "d.conll:15", "holds no words"));
    CHECK(bad_is(&v, 3, "tag", "d.conll:19", "line 19: \"BAD\" is not a tag (O, or B-, I-"));
    conv_fini(&v);
    /* Without documents, the sentence is left out. */
    const char *sent[] = {"s.txt", "a O\nb I-\n\nc O\n"};
    CHECK(convert(&v, 1, 1, sent) == 0);
    CHECK_INT(json_array_size(v.tasks), 1);
    CHECK(bad_is(&v, 0, "tag", "s.txt:2", "line 2: \"I-\" is not a tag"));
    conv_fini(&v);
    /* A file without words. */
    const char *empty[] = {"e.conll", "\n\n  \r\n"};
    CHECK(convert(&v, 1, 1, empty) == 0);
    CHECK_INT(json_array_size(v.tasks), 0);
    CHECK_INT(v.c.nbad, 1);
    CHECK(bad_is(&v, 0, "body", "e.conll", "holds no word lines"));
    conv_fini(&v);
}

TEST(convert_conll_unique_ids_and_files_of_a_zip)
{
    /* The same text twice gets :2; the same file again the same ids;
     * other formats' files of a zip are left out. */
    const char *files[] = {"a/train.conll", "x O\n\ny O\n\nx O\n", "a/dev.conll",
                           "y O\n",         "a/meta.json",         "{\"not\": \"conll\"}"};
    conv v, w;
    CHECK(convert(&v, 1, 3, files) == 0);
    CHECK_INT(json_array_size(v.tasks), 4);
    CHECK_INT(v.c.nbad, 0);
    /* Files are read in name order: dev, then train. */
    CHECK_STR(v.c.where[0], "a/dev.conll:1");
    CHECK_STR(v.c.where[3], "a/train.conll:5");
    const char *id[4];
    for (size_t i = 0; i < 4; i++)
        id[i] = json_string_value(json_object_get(json_array_get(v.tasks, i), "unique_id"));
    CHECK(strcmp(id[0], id[1]) && strcmp(id[1], id[3]));
    CHECK(!strncmp(id[2], id[0], 22) && !strcmp(id[2] + 22, ":2")); /* y twice */
    CHECK(!strncmp(id[3], id[1], 22) && !strcmp(id[3] + 22, ":2")); /* x twice */
    CHECK(convert(&w, 1, 3, files) == 0);
    for (size_t i = 0; i < 4; i++)
        CHECK_STR(json_string_value(json_object_get(json_array_get(w.tasks, i), "unique_id")),
                  id[i]);
    conv_fini(&w);
    conv_fini(&v);
}

/* The conll export of the tasks t (each {data, result: response}). */
static char *export_tasks(const json_t *tasks)
{
    const lp_export_format *f = lp_export_find("conll");
    lp_export_ctx cx = {.kind = "namedentityrecognition", .params = NULL};
    lp_buf out = {0};
    const json_t *t;
    size_t i;
    lp_buf_puts(&out, "");
    json_array_foreach(tasks, i, t)
    {
        json_t *x = json_pack("{s:O, s:{s:O}}", "data", json_object_get(t, "data"), "result",
                              "response", json_object_get(t, "result"));
        char *s = json_dumps(x, JSON_COMPACT);
        f->task(&cx, &out, i, s, strlen(s));
        free(s);
        json_decref(x);
    }
    return out.data;
}

TEST(convert_conll_round_trip_of_an_export_is_byte_for_byte)
{
    /* Loupe's export of spans it must resolve (overlapping: the first
     * longest is kept; adjacent of one label; one cutting a token; a
     * label with a space; non-ASCII; no entities), imported as results and
     * exported again: the same bytes. */
    json_t *orig = kt_json(
        "[{'data': {'text': 'Bank of Paris opened'}, 'result': {'spans': ["
        "{'start': 5, 'end': 13, 'label': 'PER'}, {'start': 0, 'end': 13, 'label': 'ORG'}]}},"
        " {'data': {'text': 'New York Boston'}, 'result': {'spans': ["
        "{'start': 0, 'end': 8, 'label': 'LOC'}, {'start': 9, 'end': 15, 'label': 'LOC'}]}},"
        " {'data': {'text': 'x Zürich-based, Zoë: 東京!'}, 'result': {'spans': ["
        "{'start': 4, 'end': 10, 'label': 'LOC'}, {'start': 16, 'end': 19, 'label': 'PER'},"
        " {'start': 21, 'end': 23, 'label': 'LOC'}]}},"
        " {'data': {'text': 'Acme  Corp\\nsells'}, 'result': {'spans': ["
        "{'start': 0, 'end': 10, 'label': 'BIG ORG'}]}},"
        " {'data': {'text': 'Nothing here.'}, 'result': {'spans': []}}]");
    char *first = export_tasks(orig);
    CHECK(strstr(first, "Paris -X- -X- I-ORG\nopened -X- -X- O\n"));
    CHECK(strstr(first, "York -X- -X- I-LOC\nBoston -X- -X- B-LOC\n"));
    CHECK(strstr(first, "Corp -X- -X- I-BIG_ORG\n"));
    const char *files[] = {"body", first};
    conv v;
    CHECK(convert(&v, 1, 1, files) == 0);
    CHECK_INT(json_array_size(v.tasks), 5);
    CHECK_INT(v.c.nbad, 0);
    /* The tokens joined by spaces: the text the export tokenises again
     * (each CJK ideograph is a token of its own). */
    CHECK_TASK(v, 0, "Bank of Paris opened|0-13:ORG:Bank of Paris");
    CHECK_TASK(v, 2,
               "x Zürich - based , Zoë : 東 京 !|2-16:LOC:Zürich - based 19-22:PER:Zoë "
               "25-28:LOC:東 京");
    CHECK_TASK(v, 3, "Acme Corp sells|0-9:BIG ORG:Acme Corp");
    CHECK_KIND_ACCEPTS(v);
    char *second = export_tasks(v.tasks);
    CHECK_STR(second, first);
    free(first);
    free(second);
    json_decref(orig);
    conv_fini(&v);
}

TEST(convert_conll_round_trip_of_a_foreign_file_keeps_the_entities)
{
    /* IOB1, two sentences in a document, tabs: the export writes IOB2
     * four columns, one block a document; the tags per word are the same
     * once read the same way.  "U.S." is three tokens to the export, all
     * in the entity. */
    const char *files[] = {"body", "-DOCSTART-\tO\n\nU.S.\tI-LOC\nwins\tO\n\nRolf\tI-PER\n"
                                   "Smith\tI-PER\nAnn\tB-PER\n"};
    conv v;
    CHECK(convert(&v, 1, 1, files) == 0);
    char *out = export_tasks(v.tasks);
    CHECK_STR(out, DOC "U -X- -X- B-LOC\n. -X- -X- I-LOC\nS -X- -X- I-LOC\n. -X- -X- I-LOC\n"
                       "wins -X- -X- O\nRolf -X- -X- B-PER\nSmith -X- -X- I-PER\n"
                       "Ann -X- -X- B-PER\n\n");
    free(out);
    conv_fini(&v);
}
