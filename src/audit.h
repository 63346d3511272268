/* audit.h -- the audit log: who changed what, when and from where.
 *
 * Every request that may change something (any method but GET and HEAD)
 * and reached its handler is recorded, whatever its answer, so refused
 * attempts are there too: the user and the API key (none for a session),
 * the client's address, the route and path, the project whose role the
 * handler checked, the id a POST made, the status, and a detail -- the
 * names of the body's top-level fields (never their values: a password
 * must not reach the log), or the email a failed login tried.  The HTTP
 * layer calls lp_audit_record in the request's own transaction for the
 * annotator's routes (LP_ROUTE_TX), so a change and its record commit or
 * fail together, and in one of its own right after the handler for the
 * others; both are durable before the reply goes out.
 *
 * Leases (GET .../queue/next, .../reviews/next) are changes made by a GET:
 * the assignments table records them (who, which task, when), not the log.
 * Admins read the log with GET /v1/audit, a project's managers theirs with
 * GET /v1/projects/{id}/audit. */
#ifndef LP_AUDIT_H
#define LP_AUDIT_H

#include "http.h"

/* The lp_http_config.audit hook: inserts the request's row on req->db, in
 * the transaction open there (in_tx) or in one of its own. */
int lp_audit_record(lp_req *req, int in_tx);

/* GET /v1/audit and GET /v1/projects/{id}/audit. */
int lp_api_audit(lp_req *req);
int lp_api_project_audit(lp_req *req);

#endif
