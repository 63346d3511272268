/* convert.h -- annotation formats read into Loupe tasks: COCO, YOLO,
 * Pascal VOC, CoNLL-2003, Label Studio's JSON export and MOT challenge tracks.
 *
 * A team moving over brings its labels with its data.  A converter reads a
 * source (one file, or the files of a folder or a zip: see lp_src) and
 * emits one Loupe task body per item (image, sentence, Label Studio task)
 * with the item's labels as the kind's response.  The labels become the
 * task's predictions (pre-labels for annotators to accept or fix: the
 * default) or its result (the team's existing, final labels: the task is
 * imported completed).  The task bodies then go through the bulk import
 * (import.h), so they are validated and reported exactly as tasks sent as
 * JSON are: an unknown label or a box outside its image is a row error
 * naming the field, good rows still import, a row is all in or all out.
 *
 * Each emitted task carries where it came from ("annotations.json:
 * images[3] cat.jpg", "labels/cat.txt"), which reports give instead of a
 * line of the NDJSON the import reads.  What a converter cannot turn into
 * a task at all (an annotation naming an image that is not in the file, a
 * YOLO line with four numbers) is reported the same way, as an invalid
 * row after the tasks; a document that cannot be read at all (not JSON, a
 * VOC file that is not XML) fails the whole import before anything is
 * written.
 *
 * Converters are pure: they read the source's text files and look media
 * files up by name (lp_convert_image); they touch no database. */
#ifndef LP_CONVERT_H
#define LP_CONVERT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "import.h"
#include "project.h"
#include "util.h"
#include "valid.h"

/* A text file of the source (annotations, class lists, XML, CoNLL). */
typedef struct lp_src_text {
    char *name; /* path relative to the source's root, "/"-separated */
    char *data; /* its bytes (NUL-terminated for convenience; len excludes it) */
    size_t len;
} lp_src_text;

/* A media file of the source (an image, audio, video), already stored
 * (files.c) and known by its sha256. */
typedef struct lp_src_media {
    char *name;       /* path relative to the source's root */
    const char *base; /* its last segment (points into name) */
    const char *type; /* attachment type: "image", "audio", "video" */
    char sha[65];
    int width, height; /* an image's size from its header (0: unknown) */
} lp_src_media;

typedef struct lp_src {
    lp_src_text *texts;
    size_t ntexts;
    lp_src_media *media; /* sorted by base, then name (lp_src_done) */
    size_t nmedia;
    size_t skipped; /* files neither text nor media, left out */
} lp_src;

/* Adds a text file (data copied) or a media file to s. */
void lp_src_add_text(lp_src *s, const char *name, const char *data, size_t len);
void lp_src_add_media(lp_src *s, const char *name, const char *type, const char *sha, int width,
                      int height);
/* An image's width and height from the first n bytes of its file (PNG,
 * JPEG, GIF, BMP, WebP): 0, or -1 when they do not say. */
int lp_image_size(const unsigned char *b, size_t n, int *width, int *height);
/* Sorts the media for lookup; call once every file is added. */
void lp_src_done(lp_src *s);
void lp_src_fini(lp_src *s);
/* The text file called name (exact path), or NULL. */
const lp_src_text *lp_src_find(const lp_src *s, const char *name);
/* 1 if name ends with suffix, compared without case (".xml"). */
int lp_src_has_suffix(const char *name, const char *suffix);
/* The attachment type of a file by its extension ("image", "audio",
 * "video", "text", "document"), or NULL. */
const char *lp_media_type(const char *name, size_t len);
/* 1 if a file of this name is read as text by converters (json, txt,
 * xml, yaml, conll, names..., and a .png under a folder called masks,
 * an index mask kept as bytes for convert_masks.c), else 0. */
int lp_src_is_text(const char *name);

/* 1 if data starts as a zip file does (a local file header, or the end
 * of an empty zip's central directory). */
int lp_src_is_zip(const void *data, size_t len);
/* Reads a folder (recursively, hidden files skipped) or a zip (from
 * memory) into s: text files kept, media files stored in files_dir and
 * recorded in db.  0, or LP_EINVAL with e naming "body" (a zip that is
 * not one) or the file that could not be read; LP_EIO/LP_EDB when storing
 * fails. */
int lp_src_load_dir(lp_src *s, lp_db *db, const char *files_dir, const char *path, lp_verr *e);
int lp_src_load_zip(lp_src *s, lp_db *db, const char *files_dir, const void *data, size_t len,
                    lp_verr *e);

/* One conversion's input and output. */
typedef struct lp_convert {
    /* input */
    const lp_project *project; /* its kind and params (labels) */
    const lp_src *src;
    int results;            /* 1: labels become results (completed tasks); 0: predictions */
    const char *model;      /* the predictions' model (NULL: "import:FORMAT") */
    const char *image_base; /* prefix that makes an image's file name its URL (NULL: none) */
    const char *format;     /* the converter's name, set by lp_convert_run */
    /* output: the tasks as NDJSON, and where each came from */
    lp_buf out;
    size_t ntasks;
    char **where; /* each row's place: the tasks', then the bad items' */
    size_t nwhere, cap;
    /* items that made no task: their place and why */
    struct lp_convert_bad {
        char *where;
        lp_verr e;
    } * bad;
    size_t nbad, badcap;
} lp_convert;

/* Emits a task.  task is the body without labels (data, attachments,
 * unique_id...; reference stolen).  response (stolen; NULL: the item has
 * no labels, the task is imported without) becomes its result or its
 * prediction, with score (in 0..1; negative: none).  where is printf-like. */
void lp_convert_task(lp_convert *c, json_t *task, json_t *response, double score, const char *where,
                     ...) __attribute__((format(printf, 5, 6)));
/* Appends a prediction of response (stolen) to task's "predictions" (made
 * if missing), for items that carry several (Label Studio's): under model
 * (NULL: c->model, else "import:FORMAT"), with score (negative: none).
 * lp_convert_task's response goes through it too. */
void lp_convert_predict(lp_convert *c, json_t *task, const char *model, json_t *response,
                        double score);
/* Reports an item that made no task: field and message as in lp_verr. */
void lp_convert_bad(lp_convert *c, const char *field, const char *msg, const char *where, ...)
    __attribute__((format(printf, 4, 5)));
/* The image attachment of an item called file_name (a path or a bare
 * name): the source's media file of that path, else the only one of that
 * last segment ({"type":"image","file":SHA,"name":...}); else url when it
 * is http(s); else image_base + file_name; else NULL (the caller reports
 * the item).  The caller owns the result.  *width and *height (may be
 * NULL) receive the size read from the media file's header, 0 when not
 * known (a URL, an unreadable header). */
json_t *lp_convert_image(lp_convert *c, const char *file_name, const char *url, int *width,
                         int *height);
/* The source's media file of that name (exact path, a path ending with it
 * at a "/", or the only one of that last segment), or NULL. */
const lp_src_media *lp_src_find_media(const lp_src *s, const char *file_name);
void lp_convert_fini(lp_convert *c);
/* 1 if the project's params.labels has a label called name (labels given
 * as strings or as {"name": ...} objects). */
int lp_convert_has_label(const lp_convert *c, const char *name);

typedef struct lp_converter {
    const char *name;         /* "coco" */
    const char *summary;      /* one line, for help and GET /v1/kinds */
    const char *const *kinds; /* the project kinds it fills, NULL-terminated */
    /* Reads c->src, emitting tasks and bad items.  0, or LP_EINVAL with e
     * filled when the source as a whole cannot be used (e->field names
     * the file, e->message says where in it and why). */
    int (*run)(lp_convert *c, lp_verr *e);
} lp_converter;

extern const lp_converter lp_convert_coco, lp_convert_yolo, lp_convert_voc, lp_convert_conll,
    lp_convert_labelstudio;
extern const lp_converter lp_convert_masks;
extern const lp_converter lp_convert_mot;

/* The converter called name, or NULL; and all of them, NULL-terminated. */
const lp_converter *lp_converter_find(const char *name);
const lp_converter *const *lp_converters(void);
/* 1 if cv can fill a project of this kind. */
int lp_converter_fits(const lp_converter *cv, const char *kind);

/* Runs cv over c (c->project and c->src set), then imports its tasks into
 * the project with im's batch and row reporter: the rows are the tasks,
 * then the bad items; im->where gives each row's place.  Results as
 * lp_import_run, and LP_EINVAL for a kind cv cannot fill (field
 * "format"). */
int lp_convert_import(lp_db *db, const lp_converter *cv, lp_convert *c, lp_import *im, lp_verr *e);

#endif
