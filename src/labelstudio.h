/* labelstudio.h -- Loupe's projects, tasks and responses in the shapes
 * Label Studio uses, for the ML backends written for it (mlbackend.c):
 * a labeling config (XML) per project, a Label Studio task per task, and
 * a response as Label Studio result regions.  The way back, regions to a
 * response, is the Label Studio importer's (lp_ls_response, in
 * convert_labelstudio.c), so both directions agree.
 *
 * The config's tag names are fixed, and the mapping relies on them:
 *  - categorization: Choices "label" on Text "text" ($text) or, when the
 *    project's tasks are images, Image "image" ($image);
 *  - imageannotation: RectangleLabels "label", PolygonLabels "polygon",
 *    KeyPointLabels "keypoint" (the project's geometries) on Image "image";
 *  - namedentityrecognition: Labels "label" on Text "text", Relations when
 *    the project has relation labels;
 *  - transcription: TextArea "transcription" on Audio "audio" (with
 *    segments: per-region TextArea and Labels "speaker" on the segments);
 *  - textcollection: TextArea "answer" on Text "text", or one TextArea per
 *    field, named like the field;
 *  - rating: one Rating per criterion, named like the criterion.
 * Comparison and ranking have no Label Studio counterpart a backend could
 * answer in: lp_ls_label_config refuses them. */
#ifndef LP_LABELSTUDIO_H
#define LP_LABELSTUDIO_H

#include <jansson.h>
#include <stddef.h>

#include "project.h"

/* The project's labeling config (new), or NULL with why filled when its
 * kind has none.  image: the tasks are images (categorization). */
char *lp_ls_label_config(const lp_project *p, int image, char *why, size_t whyn);

/* The Label Studio task of a Loupe task {id, data, attachments}: {id,
 * data} where data is the task's, plus "image" (or "audio", "video") with
 * the first such attachment's URL: its url, or /v1/files/SHA256 for an
 * uploaded file (new). */
json_t *lp_ls_task(const json_t *task);

/* response (of kind p->kind, for a task with data) as Label Studio result
 * regions (new); an empty array when there is nothing to map. */
json_t *lp_ls_result(const lp_project *p, const json_t *data, const json_t *response);

/* Label Studio regions (an ML backend's prediction or an annotation's
 * result) as a response of kind p->kind for a task with data (the
 * importer's mapping): 0 and *response (new; NULL when the regions say
 * nothing), or -1 with why naming the region. */
int lp_ls_response(const lp_project *p, const json_t *data, const json_t *result,
                   json_t **response, char *why, size_t whyn);

#endif
