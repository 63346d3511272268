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
 * until the end (87 MB for a million images named labels/NNNNNN.txt). */
#ifndef LP_EXPORT_ZIP_H
#define LP_EXPORT_ZIP_H

#include <time.h>

#include "export.h"

#define LP_IMGZIP_LIST 100 /* unsized images named in README.txt */

typedef struct lp_imgzip {
    struct archive *a;
    lp_buf *out;          /* the current call's output, for the write callback */
    const char *format;   /* "yolo": README.txt's title */
    const json_t *labels; /* params.labels: class i is labels[i] */
    json_t *class_ids;    /* label name -> index in labels */
    time_t started;       /* every entry's modification time */
    int failed;           /* a libarchive call failed: the export is cut off */
    size_t nimages;       /* label files written */
    size_t nobjects;      /* objects written */
    size_t no_result;     /* tasks left out: no result */
    size_t unsized;       /* tasks left out: no data.width and data.height */
    size_t points, lines; /* shapes left out: no form in the format */
    size_t unknown;       /* shapes left out: a label not in params.labels */
    lp_buf unsized_names; /* the first LP_IMGZIP_LIST of them, one a line */
} lp_imgzip;

/* One image of the export, as lp_imgzip_task hands it to a format. */
typedef struct lp_export_image {
    const json_t *task;
    const char *file_name; /* as COCO's file_name (lp_export_image_name) */
    const char *stem;      /* file_name without its extension, safe as a zip path segment */
    double width, height;  /* data.width and data.height, both > 0 */
    const json_t *shapes;  /* result.response.annotations (an array, may be empty) */
} lp_export_image;

/* A shape's extent: its box, or its polygon's bounding box, clipped to the
 * image (0 <= x1 <= x2 <= width, likewise y). */
typedef struct lp_extent {
    double x1, y1, x2, y2;
} lp_extent;

/* Starts the zip in cx->state (a format's state begins with lp_imgzip)
 * and its class table from params.labels. */
void lp_imgzip_begin(lp_imgzip *z, const lp_export_ctx *cx, const char *format);

/* Adds the file path (UTF-8) holding data (n bytes) to the zip, through
 * out.  On a libarchive failure sets z->failed and adds nothing more. */
void lp_imgzip_add(lp_imgzip *z, lp_buf *out, const char *path, const char *data, size_t n);

/* Parses task json (n bytes) and, when it has a result and a size, calls
 * image(z, out, &im); counts and names what is left out. */
void lp_imgzip_task(lp_imgzip *z, lp_buf *out, const char *json, size_t n,
                    void (*image)(lp_imgzip *z, lp_buf *out, const lp_export_image *im));

/* For shape s of im: its class (index in params.labels) and extent, or -1
 * after counting it as left out (a point, a line, an unknown label or not
 * a shape). */
int lp_imgzip_shape(lp_imgzip *z, const lp_export_image *im, const json_t *s, lp_extent *e);

/* Adds README.txt (what was exported and what left out), then the central
 * directory: the end of a format whose output is this zip.  Returns 0, or
 * LP_EIO when libarchive failed on the way. */
int lp_imgzip_end(lp_imgzip *z, lp_buf *out);

/* Frees what lp_imgzip_begin made (not z itself). */
void lp_imgzip_fini(lp_imgzip *z);

#endif
