/* kind_transcription.c -- write down what an audio, image, video or
 * document attachment says.
 *
 * Without segments a response is one text.  With segments (audio, video)
 * it is a list of timed pieces of text in seconds, sorted by start and not
 * overlapping, so a player can show them in order and aggregation can
 * align annotators by time.  max_length bounds each text, in code points. */
#include <math.h>

#include "kind.h"
#include "util.h"

/* Rounding slack when comparing a segment's end with the media duration. */
#define TIME_EPS 1e-6

/* Checks params {segments, max_length, instructions}; fills segments
 * (false). */
static int validate_params(json_t *params, lp_verr *e)
{
    static const char *const keys[] = {"segments", "max_length", "instructions", NULL};
    int rc;
    if ((rc = lp_v_object(params, "params", e))) return rc;
    if ((rc = lp_v_only_keys(params, "params", keys, e))) return rc;
    lp_json_default(params, "segments", json_false());
    if ((rc = lp_v_bool(params, "segments", "params", 1, NULL, e))) return rc;
    long long max_length = 0;
    if ((rc = lp_v_int(params, "max_length", "params", 0, 1, 100000000, &max_length, e))) return rc;
    if (max_length) /* stored as an integer even when given as 500.0 */
        json_object_set_new(params, "max_length", json_integer(max_length));
    return lp_v_string(params, "instructions", "params", 0, 0, 0, NULL, e);
}

/* Checks that the task has something to transcribe. */
static int validate_task(const json_t *params, const json_t *task, lp_verr *e)
{
    static const char *const types[] = {"audio", "image", "video", "document", NULL};
    (void)params;
    if (lp_task_attachment(task, types) < 0)
        return lp_verr_set(e, "attachments",
                           "must include an attachment of type audio, image, video or document");
    return 0;
}

/* Checks one segment {start, end, text, speaker?}.  prev holds the start
 * and end of the segment before it ({0, 0} for the first) and receives
 * this one's; duration is the media's length (HUGE_VAL when unknown). */
static int check_segment(const json_t *seg, const char *at, size_t max_length, double duration,
                         double prev[2], lp_verr *e)
{
    static const char *const keys[] = {"start", "end", "text", "speaker", NULL};
    double start, end;
    char field[256];
    int rc;
    if ((rc = lp_v_object(seg, at, e)) || (rc = lp_v_only_keys(seg, at, keys, e)) ||
        (rc = lp_v_number(seg, "start", at, 1, -HUGE_VAL, HUGE_VAL, &start, e)) ||
        (rc = lp_v_number(seg, "end", at, 1, -HUGE_VAL, HUGE_VAL, &end, e)))
        return rc;
    lp_path_key(field, sizeof field, at, "start");
    if (start < 0) return lp_verr_set(e, field, "must not be negative (got %g)", start);
    if (start < prev[0])
        return lp_verr_set(e, field,
                           "must not be before the previous segment's start (%g): segments are "
                           "sorted by start (got %g)",
                           prev[0], start);
    if (start < prev[1])
        return lp_verr_set(e, field, "overlaps the previous segment, which ends at %g (got %g)",
                           prev[1], start);
    lp_path_key(field, sizeof field, at, "end");
    if (end <= start) return lp_verr_set(e, field, "must be after start (%g); got %g", start, end);
    if (end > duration + TIME_EPS)
        return lp_verr_set(e, field, "must be at most %g, the media's duration (got %g)", duration,
                           end);
    if ((rc = lp_v_string(seg, "text", at, 1, 0, max_length, NULL, e))) return rc;
    if ((rc = lp_v_string(seg, "speaker", at, 0, 1, 0, NULL, e))) return rc;
    prev[0] = start;
    prev[1] = end;
    return 0;
}

/* Checks a response: {text} or, for a project with segments,
 * {segments: [...]} (possibly empty, for silence). */
static int validate_response(const json_t *params, const json_t *task, const json_t *response,
                             const char *path, lp_verr *e)
{
    static const char *const text_keys[] = {"text", NULL};
    static const char *const segment_keys[] = {"segments", NULL};
    int segments = json_is_true(json_object_get(params, "segments"));
    json_int_t max = json_integer_value(json_object_get(params, "max_length"));
    size_t max_length = max > 0 ? (size_t)max : 0;
    const json_t *list, *seg;
    double duration = HUGE_VAL, prev[2] = {0, 0}, d;
    char field[256];
    size_t i;
    int rc;
    if ((rc = lp_v_object(response, path, e))) return rc;
    if ((rc = lp_v_only_keys(response, path, segments ? segment_keys : text_keys, e))) return rc;
    if (!segments) return lp_v_string(response, "text", path, 1, 0, max_length, NULL, e);

    if (!lp_json_number(json_object_get(json_object_get(task, "data"), "duration"), &d) && d > 0)
        duration = d;
    if ((rc = lp_v_array(response, "segments", path, 1, 0, 0, &list, e))) return rc;
    lp_path_key(field, sizeof field, path, "segments");
    json_array_foreach(list, i, seg)
    {
        char at[256];
        lp_path_index(at, sizeof at, field, i);
        if ((rc = check_segment(seg, at, max_length, duration, prev, e))) return rc;
    }
    return 0;
}

const lp_kind lp_kind_transcription = {
    .version = 1,
    .name = "transcription",
    .summary = "Write down the words of an audio, image, video or document, optionally as "
               "timed segments.",
    .validate_params = validate_params,
    .validate_task = validate_task,
    .validate_response = validate_response,
};
