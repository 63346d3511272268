/* export.c -- the registry of export formats, and the two that are the
 * Loupe task object itself: NDJSON (one task a line, for any size and for
 * tools that read line by line) and a JSON array (one document, for tools
 * that want one).  Both write the task text as it comes: no parse and no
 * re-dump. */
#include "export.h"
#include "redteam.h"

#include <string.h>

static void ndjson_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    (void)cx;
    (void)index;
    lp_buf_append(out, json, n);
    lp_buf_puts(out, "\n");
}

static const lp_export_format ndjson = {
    .version = 1,
    .name = "ndjson",
    .summary = "Loupe tasks, one JSON object per line (any size, read line by line)",
    .content_type = "application/x-ndjson",
    .extension = "ndjson",
    .task = ndjson_task,
};

/* A JSON array with one task a line, so that the file still reads well in
 * a pager and diffs line by line. */
static void array_begin(lp_export_ctx *cx, lp_buf *out)
{
    (void)cx;
    lp_buf_puts(out, "[");
}

static void array_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n)
{
    (void)cx;
    lp_buf_puts(out, index ? ",\n" : "\n");
    lp_buf_append(out, json, n);
}

static int array_end(lp_export_ctx *cx, lp_buf *out, size_t ntasks)
{
    (void)cx;
    lp_buf_puts(out, ntasks ? "\n]\n" : "]\n");
    return 0;
}

static const lp_export_format array_format = {
    .version = 1,
    .name = "json",
    .summary = "Loupe tasks as one JSON array",
    .content_type = "application/json",
    .extension = "json",
    .begin = array_begin,
    .task = array_task,
    .end = array_end,
};

/* The file name of the task's first image attachment: the last segment of
 * its URL's path (without query or fragment), else its file's sha256 (as
 * GET /v1/files/{sha256} serves it), else the task's unique_id, else its
 * id.  *url is its absolute http(s) URL, or NULL. */
void lp_export_image_name(const json_t *task, lp_buf *name, const char **url)
{
    const json_t *att = NULL, *a;
    size_t i;
    json_array_foreach(json_object_get(task, "attachments"), i, a)
    {
        const char *type = json_string_value(json_object_get(a, "type"));
        if (type && !strcmp(type, "image")) {
            att = a;
            break;
        }
    }
    const char *u = json_string_value(json_object_get(att, "url"));
    const char *file = json_string_value(json_object_get(att, "file"));
    const char *given = json_string_value(json_object_get(att, "name"));
    const char *uid = json_string_value(json_object_get(task, "unique_id"));
    *url = u && (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8)) ? u : NULL;
    if (given && *given && !strchr(given, '/') && strcmp(given, ".") && strcmp(given, "..")) {
        lp_buf_puts(name, given); /* the name it was uploaded or imported under */
        return;
    }
    if (u) {
        size_t end = strcspn(u, "?#"), start = end;
        while (start > 0 && u[start - 1] != '/') start--;
        if (end > start) {
            lp_buf_append(name, u + start, end - start);
            return;
        }
    }
    if (file)
        lp_buf_puts(name, file);
    else if (uid)
        lp_buf_puts(name, uid);
    else
        lp_buf_printf(name, "%lld", (long long)json_integer_value(json_object_get(task, "id")));
}

static const lp_export_format *const formats[] = {
    &ndjson,
    &array_format,
    &lp_export_csv,
    &lp_export_conll,
    &lp_export_coco,
    &lp_export_yolo,
    &lp_export_voc,
    &lp_export_trl,
    &lp_export_trl_conversational,
    &lp_export_openai_preference,
    &lp_export_openai_chat,
    &lp_export_texts,
    &lp_export_ratings,
    &lp_export_redteam,
    &lp_export_kitti,
    &lp_export_lidar,
    &lp_export_masks,
    &lp_export_video,
    &lp_export_mot,
    &lp_export_coco_video,
};

int lp_export_fits(const lp_export_format *fmt, const char *kind)
{
    if (!fmt->kinds) return 1;
    for (const char *const *k = fmt->kinds; *k; k++)
        if (kind && strcmp(*k, kind) == 0) return 1;
    return 0;
}

const lp_export_format *lp_export_find(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < LP_ARRAY_LEN(formats); i++)
        if (strcmp(formats[i]->name, name) == 0) return formats[i];
    return NULL;
}

const lp_export_format *const *lp_export_all(size_t *n)
{
    *n = LP_ARRAY_LEN(formats);
    return formats;
}
