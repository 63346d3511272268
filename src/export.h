/* export.h -- export formats: one table of functions per format.
 *
 * An export is a stream of a project's tasks, each as the Loupe task object
 * (the JSON of GET /v1/tasks/{id}, with its "result" and, when asked, its
 * accepted "annotations"), in id order.  A format turns that stream into
 * the bytes of a download: what comes before the first task, each task,
 * and what ends the file.  The encoders are pure (no database, no
 * network): api_export.c reads the tasks page by page and hands them over,
 * so a format never holds more than one task and memory stays flat
 * whatever the project's size.  A format that needs the project (its
 * labels as COCO categories, its criteria as CSV columns) reads it from
 * the export's lp_export_ctx, and may keep its own state there from begin
 * to end.  Adding a format is one table (in its own export_NAME.c when it
 * is more than a few lines) and one line in export.c's registry. */
#ifndef LP_EXPORT_H
#define LP_EXPORT_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

/* One export: what a format may read about the project, and its own
 * state. */
typedef struct lp_export_ctx {
    const char *kind;     /* the project's kind: "categorization", ... */
    const json_t *params; /* the project's normalised params (docs/KINDS.md) */
    void *state;          /* the format's, from begin to free_state */
} lp_export_ctx;

typedef struct lp_export_format {
    int version;              /* 1 */
    const char *name;         /* the ?format= value: "ndjson" */
    const char *summary;      /* one line for the docs and the UI */
    const char *content_type; /* of the download */
    const char *extension;    /* of the download's file name, without the dot */
    /* The kinds of project it can export, NULL-terminated; NULL: any. */
    const char *const *kinds;
    /* Whether it can export this project (NULL: any of its kinds can):
     * 0, or LP_EINVAL with the reason appended to why, which the export
     * answers as a 400 naming format before the first byte. */
    int (*check)(const lp_export_ctx *cx, lp_buf *why);
    /* Appends what comes before the first task (NULL: nothing). */
    void (*begin)(lp_export_ctx *cx, lp_buf *out);
    /* Appends task number index (0-based) of the export; json (n bytes)
     * is the task object, valid JSON. */
    void (*task)(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n);
    /* Appends what ends the file after ntasks tasks (NULL: nothing), in
     * as many calls as it needs: returns 1 when more is to come (it is
     * called again, with an empty out, once this part has gone out), 0
     * with the last part, or a negative LP_E* code (a spool that could
     * not be written or read back), which cuts the download off.  A
     * format whose end is large (COCO writes every annotation there)
     * thus sends it in bounded parts and memory stays flat. */
    int (*end)(lp_export_ctx *cx, lp_buf *out, size_t ntasks);
    /* Frees cx->state (NULL: there is none); called once, also when the
     * export stops part way. */
    void (*free_state)(lp_export_ctx *cx);
} lp_export_format;

/* The formats that live in their own files (export_NAME.c). */
extern const lp_export_format lp_export_csv;
extern const lp_export_format lp_export_conll;
extern const lp_export_format lp_export_coco;
extern const lp_export_format lp_export_yolo, lp_export_voc;
extern const lp_export_format lp_export_kitti, lp_export_lidar;
extern const lp_export_format lp_export_masks;
/* The formats of export_llm.c: language-model training data. */
extern const lp_export_format lp_export_trl, lp_export_trl_conversational,
    lp_export_openai_preference, lp_export_openai_chat, lp_export_ratings, lp_export_texts;
/* The formats of export_video.c: videoannotation tracks per frame. */
extern const lp_export_format lp_export_video, lp_export_mot, lp_export_coco_video;

/* Appends to name the file name of the task's first image attachment: the
 * name it carries (given at upload or import, when it is a plain file
 * name), else the last segment of its URL's path (without query or
 * fragment), else its file's sha256, else the task's unique_id, else its
 * id.  *url is that
 * attachment's absolute http(s) URL, or NULL.  COCO's file_name, YOLO's
 * and VOC's file names. */
void lp_export_image_name(const json_t *task, lp_buf *name, const char **url);

/* 1 if fmt can export a project of this kind. */
int lp_export_fits(const lp_export_format *fmt, const char *kind);

/* The format called name, or NULL (also for NULL). */
const lp_export_format *lp_export_find(const char *name);
/* The registry in its documented order, and its length in *n. */
const lp_export_format *const *lp_export_all(size_t *n);

#endif
