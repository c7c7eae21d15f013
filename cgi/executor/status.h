/*
 * status.h - the executor's health report.
 *
 * The answer to an XP_OP_STATUS request, which the front serves as
 * GET /api/python/health: whether the engine is usable, its pool, jobs and
 * spawns, the jail's layers and the limits jobs run under (see
 * docs/design/engine-jail.md).  It only reads the executor's state.
 */
#ifndef PYSANDBOX_EXECUTOR_STATUS_H
#define PYSANDBOX_EXECUTOR_STATUS_H

#include "app.h"
#include "executor.h"
#include "sbuf.h"

/* Appends the health JSON object to b.  Returns APP_OK, or APP_ETOOBIG /
 * APP_ENOMEM from the buffer: then b holds a partial document that must
 * not be sent. */
APP_MUST_CHECK app_err status_json(const executor *ex, sbuf *b);

#endif
