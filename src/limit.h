/* limit.h -- every limit Loupe puts on what a request carries, in one
 * place.  docs/API.md "Limits" lists each with its value and its error.
 *
 * Body sizes are settings (config.c: --body-limit-mb, --bulk-limit-mb,
 * --file-limit-mb) answered with 413 before the body is held; the import's
 * row count is a setting too (--max-tasks).  The others are fixed: they
 * bound what one JSON document can make the server do (jansson's
 * recursion, a string copied whole, a response list checked item by item)
 * and are answered with 422 naming the field and the limit. */
#ifndef LP_LIMIT_H
#define LP_LIMIT_H

/* Brackets one JSON document may nest (a body, a row of an import). */
#define LP_LIMIT_JSON_DEPTH 64
/* Bytes of one string, value or key, in a JSON document (as decoded). */
#define LP_LIMIT_STRING_BYTES (1024 * 1024)
/* Items of one list in an annotation's response: shapes, spans,
 * relations, segments, labels, ranked items; and vertices of one shape. */
#define LP_LIMIT_RESPONSE_ITEMS 10000
/* The default of --max-tasks: rows (tasks) one import request may carry. */
#define LP_LIMIT_TASKS_DEFAULT 1000000
/* Points a point-cloud file may declare (pointcloud.c); its data must
 * also be there, so the file size bounds it first. */
#define LP_LIMIT_POINTCLOUD_POINTS 100000000
/* Points GET /v1/files/{sha256}/points serves at most (?max=, default
 * LP_LIMIT_POINTCLOUD_DEFAULT_MAX): more are decimated (pointcloud.h). */
#define LP_LIMIT_POINTCLOUD_MAX_POINTS 5000000
#define LP_LIMIT_POINTCLOUD_DEFAULT_MAX 1000000
/* Bytes of a Scale-style JSON point cloud, parsed whole into a tree. */
#define LP_LIMIT_POINTCLOUD_JSON_BYTES (128 * 1024 * 1024)

#endif
