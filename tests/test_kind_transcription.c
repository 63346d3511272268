/* test_kind_transcription.c -- params, tasks, responses and errors of the
 * transcription kind, with and without time segments. */
#include "test_kinds.h"

#define K               (&lp_kind_transcription)
#define TEXT            "{'max_length': 5}"
#define SEGS            "{'segments': true}"
#define AUDIO           "{'attachments': [{'type': 'audio', 'url': 'u'}], 'data': {'duration': 10}}"
#define SEG(start, end) "{'start': " #start ", 'end': " #end ", 'text': 'x'}"

TEST(transcription_params_are_normalised)
{
    lp_verr e;
    json_t *p;
    int rc = kt_params(K, "{'max_length': 500.0}", &p, &e);
    int segments = kt_equal_at(p, "segments", "false");
    int max_length = json_is_integer(json_object_get(p, "max_length")) &&
                     json_integer_value(json_object_get(p, "max_length")) == 500;
    json_decref(p);
    CHECK_VALID(rc, e);
    CHECK(segments);
    CHECK(max_length);
    PARAMS_ERR(K, "{'max_length': 0}", "params.max_length", "must be between 1 and");
    PARAMS_ERR(K, "{'max_length': 'long'}", "params.max_length", "must be an integer");
    PARAMS_ERR(K, "{'segments': 1}", "params.segments", "must be true or false");
    PARAMS_ERR(K, "{'segment': true}", "params.segment", "is not a known field");
}

TEST(transcription_task_needs_media)
{
    TASK_OK(K, "{}", AUDIO);
    TASK_OK(K, "{}", "{'attachments': [{'type': 'document', 'file': 'f'}]}");
    TASK_OK(K, "{}", "{'attachments': [{'type': 'video', 'url': 'u'}]}");
    TASK_OK(K, "{}", "{'attachments': [{'type': 'image', 'url': 'u'}]}");
    TASK_ERR(K, "{}", "{'attachments': [{'type': 'text', 'content': 'hi'}]}", "attachments",
             "audio, image, video or document");
    TASK_ERR(K, "{}", "{'data': {}}", "attachments", "must include an attachment");
}

TEST(transcription_text_responses)
{
    RESPONSE_OK(K, TEXT, AUDIO, "{'text': 'hello'}");
    RESPONSE_OK(K, TEXT, AUDIO, "{'text': ''}");
    RESPONSE_OK(K, TEXT, AUDIO, "{'text': 'ééééé'}"); /* 5 code points, 10 bytes */
    RESPONSE_ERR(K, TEXT, AUDIO, "{'text': 'hello!'}", "response.text",
                 "must be at most 5 characters (has 6)");
    RESPONSE_ERR(K, TEXT, AUDIO, "{}", "response.text", "is required");
    RESPONSE_ERR(K, TEXT, AUDIO, "{'text': 42}", "response.text", "must be a string, not a number");
    RESPONSE_ERR(K, TEXT, AUDIO, "{'segments': []}", "response.segments", "is not a known field");
}

TEST(transcription_segment_responses)
{
    RESPONSE_OK(K, SEGS, AUDIO, "{'segments': []}");
    RESPONSE_OK(K, SEGS, AUDIO, "{'segments': [" SEG(0, 1.5) ", " SEG(1.5, 3) ", " SEG(5, 10) "]}");
    RESPONSE_OK(K, SEGS, AUDIO,
                "{'segments': [{'start': 0, 'end': 1, 'text': '', 'speaker': "
                "'Ann'}]}");
    RESPONSE_ERR(K, SEGS, AUDIO, "{'segments': [" SEG(0, 2.5) ", " SEG(2, 3) "]}",
                 "response.segments[1].start",
                 "overlaps the previous segment, which ends at 2.5 (got 2)");
    RESPONSE_ERR(K, SEGS, AUDIO, "{'segments': [" SEG(4, 5) ", " SEG(1, 2) "]}",
                 "response.segments[1].start", "must not be before the previous segment's start");
    RESPONSE_ERR(K, SEGS, AUDIO, "{'segments': [" SEG(2, 2) "]}", "response.segments[0].end",
                 "must be after start (2); got 2");
    RESPONSE_ERR(K, SEGS, AUDIO, "{'segments': [" SEG(-1, 2) "]}", "response.segments[0].start",
                 "must not be negative (got -1)");
    RESPONSE_ERR(K, SEGS, AUDIO, "{'segments': [" SEG(9, 12) "]}", "response.segments[0].end",
                 "must be at most 10, the media's duration (got 12)");
    RESPONSE_OK(K, SEGS, "{'data': {}}", "{'segments': [" SEG(9, 12) "]}");
    RESPONSE_ERR(K, SEGS, AUDIO, "{'segments': [{'start': 0, 'end': 1}]}",
                 "response.segments[0].text", "is required");
    RESPONSE_ERR(K, SEGS, AUDIO,
                 "{'segments': [{'start': 0, 'end': 1, 'text': 'x', "
                 "'speaker': ''}]}",
                 "response.segments[0].speaker", "must not be empty");
    RESPONSE_ERR(K, SEGS, AUDIO, "{'segments': [{'start': '0', 'end': 1, 'text': 'x'}]}",
                 "response.segments[0].start", "must be a number, not a string");
    RESPONSE_ERR(K, "{'segments': true, 'max_length': 3}", AUDIO,
                 "{'segments': [{'start': 0, 'end': 1, 'text': 'four'}]}",
                 "response.segments[0].text", "at most 3 characters (has 4)");
    RESPONSE_ERR(K, SEGS, AUDIO, "{'text': 'hello'}", "response.text", "is not a known field");
}

#define FREE "{}"

TEST(transcription_score_is_one_minus_the_character_error_rate)
{
    const char *ref = "{'text': 'hello world'}";
    CHECK_NEAR(kt_score(K, FREE, AUDIO, "{'text': 'hello world'}", ref), 1, 0);
    /* Case and whitespace do not count. */
    CHECK_NEAR(kt_score(K, FREE, AUDIO, "{'text': '  Hello\\n\\tWORLD  '}", ref), 1, 0);
    /* One substitution, one deletion, two insertions, over 11. */
    CHECK_NEAR(kt_score(K, FREE, AUDIO, "{'text': 'hallo world'}", ref), 1 - 1.0 / 11, 1e-12);
    CHECK_NEAR(kt_score(K, FREE, AUDIO, "{'text': 'hello wold'}", ref), 1 - 1.0 / 11, 1e-12);
    CHECK_NEAR(kt_score(K, FREE, AUDIO, "{'text': 'hello world!!'}", ref), 1 - 2.0 / 11, 1e-12);
    CHECK_NEAR(kt_score(K, FREE, AUDIO, "{'text': 'helloworld'}", ref), 1 - 1.0 / 11, 1e-12);
    /* Code points, not bytes: one substitution in 3. */
    CHECK_NEAR(kt_score(K, FREE, AUDIO, "{'text': 'Zoe'}", "{'text': 'Zo\\u00eb'}"), 2.0 / 3,
               1e-12);
    CHECK_NEAR(kt_score(K, FREE, AUDIO, "{'text': '\\ud83d\\ude00 hi'}", "{'text': 'x hi'}"),
               3.0 / 4, 1e-12);
    /* More errors than reference characters: 0, not negative. */
    CHECK_NEAR(
        kt_score(K, FREE, AUDIO, "{'text': 'a completely different sentence'}", "{'text': 'abc'}"),
        0, 0);
    CHECK_NEAR(kt_score(K, FREE, AUDIO, "{'text': 'xyz'}", "{'text': 'abc'}"), 0, 0);
    CHECK_NEAR(kt_score(K, FREE, AUDIO, "{'text': ''}", "{'text': 'abc'}"), 0, 0);
    CHECK_NEAR(kt_score(K, FREE, AUDIO, "{'text': ''}", "{'text': ' '}"), 1, 0);
    CHECK_NEAR(kt_score(K, FREE, AUDIO, "{'text': 'a'}", "{'text': ''}"), 0, 0);
}

TEST(transcription_score_joins_segments_in_time_order)
{
    CHECK_NEAR(kt_score(K, SEGS, AUDIO,
                        "{'segments': [{'start': 0, 'end': 1, 'text': 'Hello', 'speaker': 'A'}, "
                        "{'start': 1.5, 'end': 2, 'text': 'world'}]}",
                        "{'segments': [{'start': 0, 'end': 3, 'text': 'hello world'}]}"),
               1, 0);
    CHECK_NEAR(kt_score(K, SEGS, AUDIO,
                        "{'segments': [{'start': 0, 'end': 1, 'text': 'hello'}, "
                        "{'start': 1, 'end': 2, 'text': 'world'}]}",
                        "{'segments': [{'start': 0, 'end': 3, 'text': 'helloworld'}]}"),
               0.9, 1e-12);
    CHECK_NEAR(kt_score(K, SEGS, AUDIO, "{'segments': []}", "{'segments': []}"), 1, 0);
    CHECK_NEAR(kt_score(K, SEGS, AUDIO, "{'segments': []}",
                        "{'segments': [{'start': 0, 'end': 3, 'text': 'hi'}]}"),
               0, 0);
}
