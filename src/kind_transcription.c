/* kind_transcription.c -- write down what an audio, image, video or
 * document attachment says.
 *
 * Without segments a response is one text.  With segments (audio, video)
 * it is a list of timed pieces of text in seconds, sorted by start and not
 * overlapping, so a player can show them in order and aggregation can
 * align annotators by time.  max_length bounds each text, in code points. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "kind.h"
#include "limit.h"
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
    if ((rc = lp_v_array(response, "segments", path, 1, 0, LP_LIMIT_RESPONSE_ITEMS, &list, e)))
        return rc;
    lp_path_key(field, sizeof field, path, "segments");
    json_array_foreach(list, i, seg)
    {
        char at[256];
        lp_path_index(at, sizeof at, field, i);
        if ((rc = check_segment(seg, at, max_length, duration, prev, e))) return rc;
    }
    return 0;
}

static int is_space(uint32_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Appends the code points of s (n bytes of valid UTF-8) to cp, which has
 * room for n more, normalised: ASCII letters in lower case and every run of
 * ASCII whitespace as one space, none at the start or the end.  *len is the
 * count so far and *gap whether a space is pending.  Normalised text is
 * never longer than its bytes. */
static void append_text(const char *s, size_t n, uint32_t *cp, size_t *len, int *gap)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        uint32_t c = *p++;
        int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
        if (more) c &= 0x3f >> more;
        for (; more && p < end; more--) c = (c << 6) | (*p++ & 0x3f);
        if (is_space(c)) {
            *gap = 1;
            continue;
        }
        if (*gap && *len) cp[(*len)++] = ' ';
        *gap = 0;
        cp[(*len)++] = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
    }
}

/* The normalised code points of a response's text (see append_text), or of
 * its segments' texts in order (the order of time, since segments are
 * sorted by start) with a space between; *len receives the count.  The
 * caller frees the array. */
static uint32_t *response_text(const json_t *response, size_t *len)
{
    const json_t *segments = json_object_get(response, "segments"), *seg, *t;
    size_t i, bytes = 0;
    int gap = 0;
    json_array_foreach(segments, i, seg)
    {
        bytes += json_string_length(json_object_get(seg, "text")) + 1;
    }
    t = json_object_get(response, "text");
    bytes += json_string_length(t);
    uint32_t *cp = lp_malloc((bytes + 1) * sizeof *cp);
    *len = 0;
    append_text(json_string_value(t), json_string_length(t), cp, len, &gap);
    json_array_foreach(segments, i, seg)
    {
        t = json_object_get(seg, "text");
        append_text(json_string_value(t), json_string_length(t), cp, len, &gap);
        gap = 1;
    }
    return cp;
}

/* The Levenshtein distance (insertions, deletions and substitutions)
 * from a (n code points) to b (m), or m when it is m or more.  Time
 * O(n * m), memory O(m); stops early once every path costs m. */
static size_t distance(const uint32_t *a, size_t n, const uint32_t *b, size_t m)
{
    if ((n > m ? n - m : m - n) >= m) return m;
    /* row[j]: the distance from a's first i code points to b's first j. */
    size_t *row = lp_malloc((m + 1) * sizeof *row);
    for (size_t j = 0; j <= m; j++) row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0], least;
        row[0] = least = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
            if (best < least) least = best;
        }
        if (least >= m) break; /* no later row can come back below m */
    }
    size_t d = row[m];
    free(row);
    return d < m ? d : m;
}

/* Scores 1 - CER: the character error rate is the Levenshtein distance
 * over code points from the reference's text to the response's, divided
 * by the reference's length, and the score is floored at 0.  Both texts
 * are first normalised (ASCII letters in lower case, whitespace runs as
 * one space, trimmed); segments are joined in time order with a space
 * between, so their timing and speakers are not scored.  Two empty texts
 * score 1; any text against an empty reference scores 0. */
static double score(const json_t *params, const json_t *task, const json_t *response,
                    const json_t *reference)
{
    size_t n, m;
    (void)params;
    (void)task;
    uint32_t *a = response_text(response, &n), *b = response_text(reference, &m);
    double s = m ? 1 - (double)distance(a, n, b, m) / (double)m : n == 0;
    free(a);
    free(b);
    return s;
}

const lp_kind lp_kind_transcription = {
    .version = 1,
    .name = "transcription",
    .summary = "Write down the words of an audio, image, video or document, optionally as "
               "timed segments.",
    .validate_params = validate_params,
    .validate_task = validate_task,
    .validate_response = validate_response,
    .score = score,
};
