/*
 * ctrace.h - _pysandbox_trace, the harness's step tracer in C (ctrace.c).
 *
 * The zygote registers PyInit__pysandbox_trace as a built-in module
 * (PyImport_AppendInittab, before Python starts), so every jailed child has
 * it; web/harness.py uses it when it can import it and its own _Tracer
 * otherwise (the browser).
 */
#ifndef PYSANDBOX_CTRACE_H
#define PYSANDBOX_CTRACE_H

#include <Python.h>

PyMODINIT_FUNC PyInit__pysandbox_trace(void);

#endif
