/* test_export_llm.c -- the language-model export formats (export_llm.c):
 * each line's exact bytes against the published layouts (TRL preference,
 * standard and conversational; OpenAI preference and chat fine-tuning),
 * and the cases converters get wrong: ties and "both bad", three or more
 * responses, plain-string responses, rankings with ties, non-ASCII text
 * with newlines and quotes, tasks without a result. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "test.h"
#include "test_kinds.h"

/* text with single quotes turned into double quotes, in one of a few
 * rotating buffers. */
static const char *dq(const char *text)
{
    static char bufs[4][4096];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s", text);
    for (char *p = b; *p; p++)
        if (*p == '\'') *p = '"';
    return b;
}

/* A completed task: id, data and its result's response (single quotes);
 * response NULL for a task without a result. */
static char *task_of(int id, const char *data, const char *response)
{
    char uid[16];
    snprintf(uid, sizeof uid, "u%d", id);
    json_t *t = json_pack("{s:i, s:s, s:s, s:o}", "id", id, "unique_id", uid, "status",
                          response ? "completed" : "pending", "data", kt_json(data));
    if (response)
        json_object_set_new(t, "result",
                            json_pack("{s:o, s:f, s:s, s:i}", "response", kt_json(response),
                                      "confidence", 0.75, "method", "auto", "annotations", 2));
    char *s = json_dumps(t, JSON_COMPACT);
    json_decref(t);
    return s;
}

/* Runs format name over tasks (NULL-terminated task texts, freed here) of a
 * project of kind with params (single quotes); returns the download, kept
 * until the next call. */
static const char *run(const char *name, const char *kind, const char *params, char **tasks)
{
    static char got[16384];
    const lp_export_format *f = lp_export_find(name);
    if (!f) return "(no such format)";
    json_t *p = kt_json(params);
    lp_export_ctx cx = {.kind = kind, .params = p};
    lp_buf out = {0};
    if (f->begin) f->begin(&cx, &out);
    size_t i = 0;
    for (; tasks[i]; i++) {
        f->task(&cx, &out, i, tasks[i], strlen(tasks[i]));
        free(tasks[i]);
    }
    if (f->end) f->end(&cx, &out, i);
    if (f->free_state) f->free_state(&cx);
    json_decref(p);
    snprintf(got, sizeof got, "%s", out.data ? out.data : "");
    lp_buf_fini(&out);
    return got;
}

/* The number of lines of s, each an object that parses as JSON and ends in
 * \n; -1 if one does not. */
static int json_lines(const char *s)
{
    int n = 0;
    for (const char *nl; *s; s = nl + 1, n++) {
        nl = strchr(s, '\n');
        if (!nl) return -1;
        json_t *v = json_loadb(s, (size_t)(nl - s), 0, NULL);
        int ok = json_is_object(v);
        json_decref(v);
        if (!ok) return -1;
    }
    return n;
}

#define PAIR2 \
    "{'prompt': 'Say hi', 'responses': [{'id': 'a', 'text': 'Hi'}, {'id': 'b', 'text': 'Hello'}]}"
#define PAIR3 "{'prompt': 'Say hi', 'responses': ['Hi', 'Hello', 'Hey']}"

TEST(export_trl_writes_prompt_chosen_rejected)
{
    char *t[] = {task_of(1, PAIR2, "{'choice': 'b'}"), NULL};
    CHECK_STR(run("trl", "comparison", "{}", t),
              dq("{'prompt':'Say hi','chosen':'Hello','rejected':'Hi'}\n"));
}

TEST(export_trl_ties_and_both_bad_make_no_line)
{
    char *t[] = {task_of(1, PAIR2, "{'tie': true}"), task_of(2, PAIR2, "{'both_bad': true}"),
                 task_of(3, PAIR2, "{'choice': null, 'tie': true, 'justification': 'same'}"),
                 task_of(4, PAIR2, "{'choice': 'a'}"), NULL};
    CHECK_STR(run("trl", "comparison", "{}", t),
              dq("{'prompt':'Say hi','chosen':'Hi','rejected':'Hello'}\n"));
}

TEST(export_trl_three_plain_responses_give_a_line_per_other)
{
    /* plain strings have the ids "0", "1", "2" */
    char *t[] = {task_of(1, PAIR3, "{'choice': '1', 'strength': 2}"), NULL};
    CHECK_STR(run("trl", "comparison", "{}", t),
              dq("{'prompt':'Say hi','chosen':'Hello','rejected':'Hi'}\n"
                 "{'prompt':'Say hi','chosen':'Hello','rejected':'Hey'}\n"));
}

TEST(export_trl_leaves_out_tasks_without_a_result_or_a_prompt)
{
    char *t[] = {
        task_of(1, PAIR2, NULL), task_of(2, "{'responses': ['x', 'y']}", "{'ranking': ['1', '0']}"),
        task_of(3, "{'prompt': '', 'responses': ['x', 'y']}", "{'ranking': ['1', '0']}"), NULL};
    CHECK_STR(run("trl", "ranking", "{}", t), "");
}

TEST(export_trl_ranking_pairs_every_better_over_every_worse)
{
    /* b first, a and c tied second, d last: b>a b>c b>d a>d c>d, never a-c */
    char *t[] = {task_of(1,
                         "{'prompt': 'P', 'responses': [{'id': 'a', 'text': 'A'}, "
                         "{'id': 'b', 'text': 'B'}, {'id': 'c', 'text': 'C'}, "
                         "{'id': 'd', 'text': 'D'}]}",
                         "{'ranking': ['b', ['a', 'c'], 'd']}"),
                 NULL};
    CHECK_STR(run("trl", "ranking", "{'allow_ties': true}", t),
              dq("{'prompt':'P','chosen':'B','rejected':'A'}\n"
                 "{'prompt':'P','chosen':'B','rejected':'C'}\n"
                 "{'prompt':'P','chosen':'B','rejected':'D'}\n"
                 "{'prompt':'P','chosen':'A','rejected':'D'}\n"
                 "{'prompt':'P','chosen':'C','rejected':'D'}\n"));
    /* all tied: no preference at all */
    char *u[] = {
        task_of(2, "{'prompt': 'P', 'responses': ['x', 'y']}", "{'ranking': [['0', '1']]}"), NULL};
    CHECK_STR(run("trl", "ranking", "{'allow_ties': true}", u), "");
}

TEST(export_trl_keeps_non_ascii_newlines_and_quotes_on_one_valid_line)
{
    char *t[] = {NULL, NULL};
    json_t *task =
        json_pack("{s:i, s:s, s:{s:s, s:[s, s]}, s:{s:{s:s}}}", "id", 7, "unique_id", "z", "data",
                  "prompt", "Zoë asks: \"why?\"\nTwo lines", "responses", "日本語 🙂\ttab",
                  "back\\slash \"q\"\r\n", "result", "response", "choice", "1");
    t[0] = json_dumps(task, JSON_COMPACT);
    json_decref(task);
    const char *got = run("trl", "comparison", "{}", t);
    CHECK_STR(got, "{\"prompt\":\"Zoë asks: \\\"why?\\\"\\nTwo lines\",\"chosen\":\"back\\\\slash "
                   "\\\"q\\\"\\r\\n\",\"rejected\":\"日本語 🙂\\ttab\"}\n");
    CHECK_INT(json_lines(got), 1);
}

TEST(export_trl_conversational_uses_messages)
{
    char *t[] = {task_of(1, PAIR2, "{'choice': 'b'}"), NULL};
    CHECK_STR(run("trl_conversational", "comparison", "{}", t),
              dq("{'prompt':[{'role':'user','content':'Say hi'}],"
                 "'chosen':[{'role':'assistant','content':'Hello'}],"
                 "'rejected':[{'role':'assistant','content':'Hi'}]}\n"));
    /* data.system opens the prompt */
    char *u[] = {task_of(2, "{'system': 'Be brief.', 'prompt': 'P', 'responses': ['x', 'y']}",
                         "{'ranking': ['1', '0']}"),
                 NULL};
    CHECK_STR(
        run("trl_conversational", "ranking", "{}", u),
        dq("{'prompt':[{'role':'system','content':'Be brief.'},{'role':'user','content':'P'}],"
           "'chosen':[{'role':'assistant','content':'y'}],"
           "'rejected':[{'role':'assistant','content':'x'}]}\n"));
}

TEST(export_openai_preference_uses_input_preferred_non_preferred)
{
    char *t[] = {task_of(1, PAIR3, "{'choice': '2'}"), task_of(2, PAIR3, "{'both_bad': true}"),
                 NULL};
    const char *got = run("openai_preference", "comparison", "{}", t);
    CHECK_STR(got, dq("{'input':{'messages':[{'role':'user','content':'Say hi'}]},"
                      "'preferred_output':[{'role':'assistant','content':'Hey'}],"
                      "'non_preferred_output':[{'role':'assistant','content':'Hi'}]}\n"
                      "{'input':{'messages':[{'role':'user','content':'Say hi'}]},"
                      "'preferred_output':[{'role':'assistant','content':'Hey'}],"
                      "'non_preferred_output':[{'role':'assistant','content':'Hello'}]}\n"));
    CHECK_INT(json_lines(got), 2);
}

TEST(export_openai_chat_without_fields_pairs_the_prompt_with_the_text)
{
    char *t[] = {task_of(1, "{'prompt': 'Summarise: ...', 'system': 'You summarise.'}",
                         "{'text': 'A summary.'}"),
                 task_of(2, "{'instruction': 'Write a haiku'}", "{'text': 'Old pond'}"),
                 task_of(3, "{'topic': 'no prompt'}", "{'text': 'orphan'}"),
                 task_of(4, "{'prompt': 'empty answer'}", "{'text': ''}"),
                 task_of(5, "{'prompt': 'pending'}", NULL),
                 NULL};
    CHECK_STR(run("openai_chat", "textcollection", "{'min_length': 0}", t),
              dq("{'messages':[{'role':'system','content':'You summarise.'},"
                 "{'role':'user','content':'Summarise: ...'},"
                 "{'role':'assistant','content':'A summary.'}]}\n"
                 "{'messages':[{'role':'user','content':'Write a haiku'},"
                 "{'role':'assistant','content':'Old pond'}]}\n"));
}

TEST(export_openai_chat_maps_fields_by_name)
{
    const char *params =
        "{'fields': [{'name': 'source'}, {'name': 'Question'}, {'name': 'Answer'}]}";
    char *t[] = {task_of(1, "{'prompt': 'unused'}",
                         "{'fields': {'source': 'web', 'Question': 'Q?', 'Answer': 'A.'}}"),
                 /* the user field left out: data.prompt instead */
                 task_of(2, "{'prompt': 'From data'}", "{'fields': {'Answer': 'A2'}}"),
                 task_of(3, "{}", "{'fields': {'Answer': 'nobody asked'}}"), NULL};
    CHECK_STR(
        run("openai_chat", "textcollection", params, t),
        dq("{'messages':[{'role':'user','content':'Q?'},{'role':'assistant','content':'A.'}]}\n"
           "{'messages':[{'role':'user','content':'From data'},"
           "{'role':'assistant','content':'A2'}]}\n"));
}

TEST(export_openai_chat_refuses_fields_without_an_answer)
{
    const lp_export_format *f = lp_export_find("openai_chat");
    CHECK(f && f->check);
    json_t *p = kt_json("{'fields': [{'name': 'summary'}, {'name': 'notes'}]}");
    lp_export_ctx cx = {.kind = "textcollection", .params = p};
    lp_buf why = {0};
    int rc = f->check(&cx, &why);
    json_decref(p);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", why.data ? why.data : "");
    lp_buf_fini(&why);
    CHECK_INT(rc, LP_EINVAL);
    CHECK_STR(msg, "takes the assistant's turn from a field named answer, response, output or "
                   "completion (and the user's from one named instruction, prompt, question or "
                   "input, or from data.prompt or data.instruction); this project's fields are "
                   "summary, notes");
    /* one text, or an answer field, is fine */
    p = kt_json("{'fields': [{'name': 'output'}]}");
    cx.params = p;
    rc = f->check(&cx, &why);
    json_decref(p);
    CHECK_INT(rc, 0);
    cx.params = NULL; /* no fields: one text */
    CHECK_INT(f->check(&cx, &why), 0);
    CHECK_INT(why.len, 0);
}

TEST(export_ratings_writes_scores_comment_and_annotations)
{
    json_t *task = kt_json("{'id': 3, 'unique_id': null, 'data': {}, "
                           "'result': {'response': {'ratings': {'helpful': 4, 'safe': 0.5}}, "
                           "'confidence': 0.5, 'method': 'auto', 'annotations': 2}, "
                           "'annotations': [{'id': 1, 'annotation_id': 'x1', 'user_id': 5, "
                           "'response': {'ratings': {'helpful': 4, 'safe': 0.5}, 'comment': 'ok'}, "
                           "'created_at': '2026-01-01T00:00:00.000Z'}, {'id': 2, "
                           "'annotation_id': 'x2', 'user_id': 6, 'response': {'ratings': "
                           "{'helpful': 3}}, 'created_at': '2026-01-01T00:00:00.000Z'}]}");
    char *t[] = {json_dumps(task, JSON_COMPACT), task_of(4, "{}", NULL),
                 task_of(5, "{}", "{'ratings': {'helpful': 2}, 'comment': 'Zoë \\'q\\''}"), NULL};
    json_decref(task);
    const char *got = run("ratings", "rating", "{'criteria': ['helpful', 'safe']}", t);
    CHECK_STR(got, dq("{'task_id':3,'unique_id':null,'ratings':{'helpful':4,'safe':0.5},"
                      "'confidence':0.5,'annotations':[{'annotation_id':'x1','user_id':5,"
                      "'ratings':{'helpful':4,'safe':0.5},'comment':'ok'},"
                      "{'annotation_id':'x2','user_id':6,'ratings':{'helpful':3}}]}\n"
                      "{'task_id':5,'unique_id':'u5','ratings':{'helpful':2},"
                      "'comment':'Zoë \\'q\\'','confidence':0.75}\n"));
    CHECK_INT(json_lines(got), 2);
}

TEST(export_ratings_of_a_comparison_gives_the_call_and_aspects)
{
    const char *params = "{'aspects': ['accuracy', 'style'], 'strength': true}";
    char *t[] = {
        task_of(1, PAIR2,
                "{'choice': 'b', 'strength': 2, 'aspects': {'accuracy': 'tie', "
                "'style': 'b'}, 'justification': 'clearer'}"),
        task_of(2, PAIR2, "{'tie': true, 'aspects': {'accuracy': 'a', 'style': 'tie'}}"),
        task_of(3, PAIR2, "{'both_bad': true, 'aspects': {'accuracy': 'a', 'style': 'b'}}"), NULL};
    CHECK_STR(run("ratings", "comparison", params, t),
              dq("{'task_id':1,'unique_id':'u1','choice':'b','strength':2,"
                 "'aspects':{'accuracy':'tie','style':'b'},'justification':'clearer',"
                 "'confidence':0.75}\n"
                 "{'task_id':2,'unique_id':'u2','choice':'tie',"
                 "'aspects':{'accuracy':'a','style':'tie'},'confidence':0.75}\n"
                 "{'task_id':3,'unique_id':'u3','choice':'both_bad',"
                 "'aspects':{'accuracy':'a','style':'b'},'confidence':0.75}\n"));
}

TEST(export_llm_formats_say_which_kinds_they_export)
{
    static const char *const want[][3] = {
        {"trl", "comparison", "ranking"},
        {"trl_conversational", "comparison", "ranking"},
        {"openai_preference", "comparison", "ranking"},
        {"openai_chat", "textcollection", "textcollection"},
        {"ratings", "rating", "comparison"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const lp_export_format *f = lp_export_find(want[i][0]);
        CHECK(f != NULL);
        CHECK_STR(f->extension, "jsonl");
        CHECK(lp_export_fits(f, want[i][1]));
        CHECK(lp_export_fits(f, want[i][2]));
        CHECK(!lp_export_fits(f, "categorization"));
        CHECK(!lp_export_fits(f, NULL));
    }
}
