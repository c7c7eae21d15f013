/*
 * app.h - the project-wide error enum.
 *
 * Every library function in pysandbox that can fail returns an app_err.
 * app_strerror() gives a human sentence, app_errcode() the stable
 * machine-readable code that appears in JSON error bodies
 * ({"error": {"code": ..., "message": ...}}).  The mapping from an app_err
 * to an HTTP status lives in exactly one place: http_status_for() in http.c.
 * Detail (which field, which byte) travels separately in a caller-owned
 * message buffer of APP_ERRMSG_LEN bytes.
 */
#ifndef PYSANDBOX_APP_H
#define PYSANDBOX_APP_H

#include <stddef.h>

/* On every function that returns an app_err: a dropped error means a
 * truncated answer or a step that silently did not happen.  (GCC does not
 * accept a (void) cast as handling it: handle or branch on the value.) */
#define APP_MUST_CHECK __attribute__((warn_unused_result))

/* Size of the caller-owned buffers that receive an error's detail. */
#define APP_ERRMSG_LEN 256

typedef enum app_err {
    APP_OK = 0,    /* success */
    APP_ENOMEM,    /* an allocation failed */
    APP_EJSON,     /* the body is not well-formed JSON */
    APP_EFIELD,    /* a field is missing, unknown, of the wrong type or out of range */
    APP_EUTF8,     /* bytes that must be UTF-8 are not */
    APP_ETOOBIG,   /* input exceeds a named size limit */
    APP_EMEDIA,    /* the Content-Type is not one the endpoint accepts */
    APP_ENOTFOUND, /* no such route or resource */
    APP_EMETHOD,   /* the route exists but not for this method */
    APP_EUNAVAIL,  /* a backend (executor, engine) is not available right now */
    APP_EBUSY,     /* the service is at capacity; retry later */
    APP_ETIMEOUT,  /* a backend did not answer in time */
    APP_EUPSTREAM, /* a backend answered with something we cannot use */
    APP_ECONFIG,   /* a setting is invalid, or a backend refused our credentials */
    APP_EREFUSED,  /* the request is valid but no engine may run it (policy) */
    APP_EJAIL,     /* setting up the jail failed */
    APP_EDB,       /* the SQLite store failed */
    APP_EIO,       /* a system call failed */
    APP_EINTERNAL, /* a bug: an invariant did not hold */
    APP_ECLIENT_LIMIT, /* this client already has its share of work in progress */
    APP_EGONE,     /* the client went away before the answer was ready */
    APP_ECONFLICT, /* the resource's state does not allow this now (one execution at a time
                    * in a sandbox; cancelling a finished run) */
    APP_EENDED,    /* the resource existed but has ended (a sandbox whose jail died) */
    APP_ERR_COUNT_ /* number of values; not an error */
} app_err;

/* Drops an error on purpose (the call site says why in a comment): the one
 * spelling that GCC's warn_unused_result accepts and grep finds. */
static inline void app_ignore(app_err err)
{
    (void)err;
}

/* Returns a static English sentence for err; never NULL. */
const char *app_strerror(app_err err);

/* Returns the static snake_case code used in JSON error bodies; never NULL. */
const char *app_errcode(app_err err);

#endif
