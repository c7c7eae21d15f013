/*
 * service.h - the HTTP service as a library: routing, body caps, handlers.
 *
 * svc_handle() turns one http_req into one http_resp.  It owns the route
 * table, enforces each route's body cap, and renders every error as the
 * JSON body {"error": {"code", "message"}} with the status from
 * http_status_for().  fcgi_main.c is only the FastCGI adapter around it,
 * so unit tests and fuzz targets drive the real service without nginx.
 */
#ifndef PYSANDBOX_SERVICE_H
#define PYSANDBOX_SERVICE_H

#include <stddef.h>

#include "app.h"
#include "conf.h"
#include "http.h"

/* Below this much free space in the run folder, GET /api/health says
 * "degraded" (runFolder.lowSpace): nginx buffers request bodies of up to
 * 60 MiB there, and logs and the store write there. */
#define SVC_RUN_DIR_MIN_FREE_BYTES (128ull * 1024 * 1024)

typedef struct svc svc;

/*
 * Loads templates and analysis programs according to *c (borrowed: it must
 * outlive the service).  Returns APP_OK and *out (free with svc_free), or an
 * error with a sentence in msg.
 */
APP_MUST_CHECK app_err svc_new(const conf *c, svc **out, char *msg, size_t msglen);

/* Frees the service. NULL-safe. */
void svc_free(svc *s);

/*
 * Looks up the route for method and path before the body is read.
 * Returns APP_OK and the largest body the route accepts in *max_body;
 * APP_ENOTFOUND; or APP_EMETHOD.  Used by the adapter to refuse an
 * oversized body without reading it.
 */
APP_MUST_CHECK app_err svc_body_limit(const svc *s, const char *method, const char *path, size_t *max_body);

/* Handles one request; always leaves a complete response in *resp. */
void svc_handle(svc *s, const http_req *req, http_resp *resp);

#endif
