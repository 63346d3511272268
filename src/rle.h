/* rle.h -- binary masks run-length encoded as COCO encodes them: the
 * mask's pixels in column-major order (down each column, then the next
 * column), counts alternating between runs of 0s and runs of 1s, starting
 * with 0s (a mask starting with a 1 has a first count of 0).  COCO writes
 * the counts either as a list of numbers or "compressed" as a string: each
 * count after the second as the difference from the count two before it,
 * in 5-bit groups, least significant first, each group a character
 * 48 + group, with 0x20 set on every group but the last and the last's
 * 0x10 bit the sign (pycocotools' rleToString).  Used by the COCO import
 * (crowd annotations) and the segmentation kind. */
#ifndef LP_RLE_H
#define LP_RLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* A mask of width x height pixels as its runs. */
typedef struct lp_rle {
    uint32_t height, width;
    uint32_t *counts;
    size_t n;
} lp_rle;

/* The largest mask read, in pixels. */
#define LP_RLE_MAX_PIXELS ((uint64_t)1 << 28)

/* Reads a COCO RLE object {"size": [height, width], "counts": [...] or
 * "..."}: 0, or -1 with why (a message of at most len bytes) filled: not
 * that shape, a count that is not a number, counts that do not add up to
 * height x width. */
int lp_rle_from_coco(const json_t *seg, lp_rle *out, char *why, size_t len);
/* Decodes COCO's compressed counts string s into out (height and width
 * set by the caller): 0, or -1 when s is malformed (a negative count). */
int lp_rle_decode_string(const char *s, lp_rle *out);
/* The compressed string of r's counts (the caller frees it). */
char *lp_rle_encode_string(const lp_rle *r);
/* Expands r into height x width bytes, row-major (mask[y * width + x],
 * 0 or 1); the caller frees it. */
unsigned char *lp_rle_to_mask(const lp_rle *r);
/* Encodes a row-major mask of width x height bytes (non-zero: set). */
void lp_rle_from_mask(const unsigned char *mask, uint32_t width, uint32_t height, lp_rle *out);
/* The most pixels lp_rle_outlines expands: the box around a mask's set
 * pixels, 4096 x 4096 (9 bytes each, 151 MB). */
#define LP_RLE_MAX_OUTLINE_PIXELS ((uint64_t)1 << 24)

/* The outer outline of each 4-connected region of the mask, as a JSON
 * list of polygons, each a list of {"x", "y"} vertices along the pixels'
 * edges (pixel (x, y) covers [x, x + 1] x [y, y + 1]), clockwise on the
 * screen, without collinear vertices, regions in the order of their first
 * pixel row by row.  Holes are not outlined.  0 with *out the list (the
 * caller owns it), or -1 with *out NULL when the box around the set
 * pixels holds more than LP_RLE_MAX_OUTLINE_PIXELS. */
int lp_rle_outlines(const lp_rle *r, json_t **out);
/* The number of pixels set in r. */
uint64_t lp_rle_area(const lp_rle *r);
/* The extent of r's set pixels, COCO's bbox: box[0], box[1] the left and
 * top pixel, box[2], box[3] the width and height in pixels; all 0 when
 * none is set. */
void lp_rle_bbox(const lp_rle *r, uint32_t box[4]);
/* The largest coordinate, either sign, lp_rle_fill_polygon takes: far
 * past any mask, yet small enough that an edge's crossing of a scanline
 * is always a finite number. */
#define LP_RLE_MAX_COORD 2147483648.0

/* Sets to value the bytes of a row-major width x height mask whose pixel
 * centres (x + 0.5, y + 0.5) lie inside the polygon of n vertices xy (x0,
 * y0, x1, y1, ...), by the even-odd rule: a scanline fill, the rule the
 * segmentation editor's polygon tool follows.  Only the mask's rows are
 * scanned, whatever the polygon's extent.  Returns 0, or -1 without
 * touching the mask when a coordinate is not finite or lies beyond
 * +-LP_RLE_MAX_COORD. */
int lp_rle_fill_polygon(unsigned char *mask, uint32_t width, uint32_t height, const double *xy,
                        size_t n, unsigned char value);
/* Encodes a label map (row-major, width x height, 0 background, v in
 * 1..nlabels a label) in one column-major pass: out[v - 1] receives label
 * v's runs (n 0 when no pixel has it).  Values above nlabels count as
 * background.  The caller finis each out[i]. */
void lp_rle_from_labels(const unsigned char *map, uint32_t width, uint32_t height, size_t nlabels,
                        lp_rle *out);
void lp_rle_fini(lp_rle *r);

#endif
