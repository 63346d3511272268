/* export_zip.h -- what the one-file-per-image exports (YOLO, Pascal VOC)
 * share: a zip written with libarchive straight into the export's output,
 * and the walk over a task's image and shapes.
 *
 * The zip is streamed: libarchive writes each entry (its local header and
 * deflated data) through a callback that appends to the lp_buf of the
 * current call (lp_imgzip.out), with no block buffering, so what a task
 * adds to the zip leaves with that task.  An entry is built whole in
 * memory first (one image's lines), so its size is known before its
 * header.  Entries are stored, not deflated: libarchive sets up (and
 * clears) a fresh deflate state of some 300 KB for every entry, which
 * took 0.85 ms per entry (1,200 images/s) against 11 us stored, for label
 * files that deflate saves little on.  The central directory, written by
 * lp_imgzip_end in one part, is the one thing that grows with the
 * export: libarchive keeps about 70 bytes plus the name for each entry
 * until the end (87 MB for a million images named labels/NNNNNN.txt),
 * and so does the set of the stems given, 16 to 32 bytes an image. */
#ifndef LP_EXPORT_ZIP_H
#define LP_EXPORT_ZIP_H

#include <stdint.h>
#include <time.h>

#include "export.h"

#define LP_IMGZIP_LIST 100 /* unsized images named in README.txt */

typedef struct lp_imgzip lp_imgzip;
typedef struct lp_export_image lp_export_image;

/* A format's writer of one image's file: built in z->entry, added under
 * z->path with lp_imgzip_add. */
typedef void (*lp_imgzip_image_fn)(lp_imgzip *z, lp_buf *out, const lp_export_image *im);

struct lp_imgzip {
    struct archive *a;
    lp_imgzip_image_fn image; /* the format's */
    lp_buf entry, path;       /* the image file being built, and its path in the zip */
    lp_buf *out;              /* the current call's output, for the write callback */
    const char *format;       /* "yolo": README.txt's title */
    const char *kind;         /* the project's kind, for README.txt */
    const json_t *labels;     /* params.labels: class i is labels[i] */
    json_t *class_ids;        /* label name -> index in labels */
    time_t started;           /* every entry's modification time */
    int failed;               /* a libarchive call failed: the export is cut off */
    size_t nimages;           /* label files written */
    size_t nobjects;          /* objects written */
    size_t no_result;         /* tasks left out: no result */
    size_t unsized;           /* tasks left out: no data.width and data.height */
    size_t points, lines;     /* shapes left out: no form in the format */
    size_t unknown;           /* shapes left out: a label not in params.labels */
    size_t too_large;         /* images left out: too large for the format (masks) */
    size_t missized;          /* masks left out: of another size than their image */
    lp_buf unsized_names;     /* the first LP_IMGZIP_LIST of them, one a line */
    /* The stems given so far, as 64-bit hashes of their lower-case form
     * in an open-addressed set (0: empty), so that two images of one name
     * (train/a.jpg, val/a.jpg) do not make two entries of one path, even
     * on a file system that ignores case: 16 to 32 bytes an image. */
    uint64_t *stems;
    size_t nstems, capstems;
    size_t renamed;       /* images whose stem was taken: STEM-task-ID */
    lp_buf renamed_names; /* the first LP_IMGZIP_LIST of them, one a line */
};

/* One image of the export, as lp_imgzip_task hands it to a format. */
struct lp_export_image {
    const json_t *task;
    const char *file_name; /* as COCO's file_name (lp_export_image_name) */
    const char *stem;      /* file_name without its extension, safe as a zip path segment */
    double width, height;  /* data.width and data.height, both > 0 */
    const json_t *shapes;  /* result.response.annotations (an array, may be empty) */
};

/* A shape's extent: its box, or its polygon's bounding box, clipped to the
 * image (0 <= x1 <= x2 <= width, likewise y). */
typedef struct lp_extent {
    double x1, y1, x2, y2;
} lp_extent;

/* Starts an export's zip as cx->state (format: README.txt's title; image:
 * the writer of each image's file) with its class table from
 * params.labels: a format's begin. */
lp_imgzip *lp_imgzip_start(lp_export_ctx *cx, const char *format, lp_imgzip_image_fn image);

/* The rest of such a format's table (lp_export_format's task, end and
 * free_state): each task's image through z->image, then README.txt and
 * the central directory (LP_EIO when libarchive failed on the way). */
void lp_imgzip_task(lp_export_ctx *cx, lp_buf *out, size_t index, const char *json, size_t n);
int lp_imgzip_end(lp_export_ctx *cx, lp_buf *out, size_t ntasks);
void lp_imgzip_free(lp_export_ctx *cx);

/* Adds the file path (UTF-8) holding data (n bytes) to the zip, through
 * out.  On a libarchive failure sets z->failed and adds nothing more. */
void lp_imgzip_add(lp_imgzip *z, lp_buf *out, const char *path, const char *data, size_t n);

/* For shape s of im: its class (index in params.labels) and extent, or -1
 * after counting it as left out (a point, a line, an unknown label or not
 * a shape). */
int lp_imgzip_shape(lp_imgzip *z, const lp_export_image *im, const json_t *s, lp_extent *e);

#endif
