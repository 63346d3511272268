/* api_ml.c -- a project's ML backend (mlbackend.h), for its managers:
 *
 *   GET    /v1/projects/{id}/ml-backend          settings and status
 *   PUT    /v1/projects/{id}/ml-backend          connect, or change settings
 *   DELETE /v1/projects/{id}/ml-backend          disconnect
 *   POST   /v1/projects/{id}/ml-backend/predict  queue tasks again */
#include "api.h"
#include "mlbackend.h"

static int with_project(lp_req *req, lp_project **p)
{
    int64_t pid;
    if (lp_req_id(req, 0, &pid)) return LP_EINVAL;
    return lp_api_managed_project(req, pid, p);
}

static const char *const no_backend = "ml-backend";

/* The answer to an error rc of the backend's routes. */
static int reply_rc(lp_req *req, int rc)
{
    if (rc == LP_ENOTFOUND)
        return lp_reply_error(req, 404, "not_found", NULL,
                              "this project has no ML backend; connect one with PUT "
                              "/v1/projects/{id}/ml-backend");
    return lp_reply_rc(req, rc, no_backend);
}

int lp_api_ml_get(lp_req *req)
{
    lp_project *p;
    if (with_project(req, &p)) return 0;
    json_t *out;
    int rc = lp_mlb_status(req->db, p, &out);
    lp_project_free(p);
    if (rc < 0) return reply_rc(req, rc);
    return lp_reply_json(req, 200, out);
}

int lp_api_ml_put(lp_req *req)
{
    lp_project *p;
    if (with_project(req, &p)) return 0;
    json_t *b, *out;
    if (lp_req_json(req, 1, &b)) {
        lp_project_free(p);
        return 0;
    }
    lp_verr e;
    int rc = lp_mlb_put(req->db, p, b, &out, &e);
    json_decref(b);
    lp_project_free(p);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc < 0) return reply_rc(req, rc);
    return lp_reply_json(req, 200, out);
}

int lp_api_ml_delete(lp_req *req)
{
    lp_project *p;
    if (with_project(req, &p)) return 0;
    int rc = lp_mlb_delete(req->db, p);
    lp_project_free(p);
    if (rc < 0) return reply_rc(req, rc);
    return lp_reply_json(req, 200, json_pack("{s:b}", "deleted", 1));
}

int lp_api_ml_predict(lp_req *req)
{
    lp_project *p;
    if (with_project(req, &p)) return 0;
    json_t *b;
    if (lp_req_json(req, 1, &b)) {
        lp_project_free(p);
        return 0;
    }
    lp_verr e;
    int64_t n = 0;
    int rc = lp_mlb_requeue(req->db, p, b, &n, &e);
    json_decref(b);
    lp_project_free(p);
    if (rc == LP_EINVAL) return lp_reply_verr(req, 422, &e);
    if (rc < 0) return reply_rc(req, rc);
    return lp_reply_json(req, 200, json_pack("{s:I}", "queued", (json_int_t)n));
}
