/*
 * ctrace.c - _pysandbox_trace: the harness's step tracer (web/harness.py
 * _Tracer) in C, for the native engine.
 *
 * The Python tracer costs about 2 us a step, most of it the interpreter
 * running the trace function itself; this one records the same steps with
 * a C trace function (PyEval_SetTrace).  Its rules are _Tracer's, and the
 * tests check both give the same steps: user frames only (code compiled as
 * the given file name), the module's own start is not a step, variables
 * are the frame's locals whose repr changed since that frame's previous
 * step (dunder names, modules, functions, classes left out; the same
 * immutable object is not repr'd again), at most max_vars a step, each
 * repr through the same caps and placeholders, and after max_steps the
 * tracer removes itself and the program runs on untraced.
 *
 * Steps are kept compact while the program runs (step number, line,
 * event, variables) and become the harness's dicts when .steps is read,
 * after the run; with an emit callable each step is also made and handed
 * to it as it happens (live step events).
 *
 * Built into pysandbox-zygote (an inittab module) and, for tools/bench-debug
 * on the host, as build/<variant>/_pysandbox_trace.so.  The browser engine
 * has no C: it keeps the Python tracer.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>

#include "ctrace.h"

/* Locals read without a Python list per step; more go through PyDict_Items. */
#define CT_STACK_LOCALS 64

static const char *const ct_event_names[] = {"call", "exception", "line", "return"};

typedef struct {
    PyObject_HEAD PyObject *filename; /* the user's code's co_filename */
    PyObject *safe_repr;              /* harness._safe_repr, for what the fast path does not take */
    PyObject *line_code;              /* line number -> its text as a step shows it */
    PyObject *emit;                   /* called with each step, or None */
    PyObject *stop_types;             /* exceptions a repr must not swallow (Stop, output limit) */
    Py_ssize_t max_steps, max_vars, repr_cap;
    PyObject *records; /* list of (step, line, event index, variables) */
    PyObject *codes;   /* line number -> line_code text */
    PyObject *seen;    /* frame address -> {name: (value or None, repr)} */
    PyObject *made;    /* the steps as dicts, once made */
    int truncated, active;
} ct_tracer;

static PyObject *ct_keys[5]; /* "step", "line_number", "line_code", "event", "variables" */
static PyObject *ct_events[4];

static int ct_immutable(PyObject *v)
{
    return v == Py_None || PyLong_CheckExact(v) || PyFloat_CheckExact(v) ||
           PyUnicode_CheckExact(v) || PyBytes_CheckExact(v) || PyBool_Check(v) ||
           PyComplex_CheckExact(v) || PyRange_Check(v);
}

static int ct_skipped(PyObject *name, PyObject *v)
{
    if (!PyUnicode_Check(name))
        return 1;
    if (PyUnicode_GET_LENGTH(name) >= 2 && PyUnicode_READ_CHAR(name, 0) == '_' &&
        PyUnicode_READ_CHAR(name, 1) == '_')
        return 1;
    return PyModule_Check(v) || PyFunction_Check(v) || PyType_Check(v) || PyCFunction_Check(v);
}

/* repr(v) under the harness's rules (_safe_repr): a new reference, or NULL
 * with an exception that must end the run (Stop, the output limit). */
static PyObject *ct_repr(ct_tracer *t, PyObject *v)
{
    PyObject *text = PyObject_Repr(v);
    if (text != NULL && PyUnicode_CheckExact(text) && PyUnicode_GET_LENGTH(text) <= t->repr_cap &&
        PyUnicode_AsUTF8AndSize(text, NULL) != NULL)
        return text; /* the common case: nothing to cut or clean */
    if (text == NULL && PyErr_ExceptionMatches(t->stop_types))
        return NULL;
    Py_XDECREF(text);
    PyErr_Clear();
    /* Placeholders, cuts and lone surrogates: the harness's own code (a
     * hostile __repr__ runs twice then; its time counts against the run). */
    PyObject *pair = PyObject_CallFunction(t->safe_repr, "On", v, t->repr_cap);
    if (pair == NULL)
        return NULL;
    PyObject *out = PyTuple_Check(pair) && PyTuple_GET_SIZE(pair) == 2
                        ? Py_NewRef(PyTuple_GET_ITEM(pair, 0))
                        : NULL;
    Py_DECREF(pair);
    if (out == NULL)
        PyErr_SetString(PyExc_TypeError, "_safe_repr did not answer (text, cut)");
    return out;
}

/* The variables of frame that changed since its previous step, into a new
 * dict; updates what the frame has shown. */
static PyObject *ct_changed(ct_tracer *t, PyFrameObject *frame)
{
    PyObject *key = PyLong_FromVoidPtr(frame);
    PyObject *locals = PyFrame_GetLocals(frame);
    PyObject *changed = PyDict_New();
    PyObject *before = NULL, *items = NULL;
    PyObject *names[CT_STACK_LOCALS], *values[CT_STACK_LOCALS];
    Py_ssize_t n = 0;
    if (key == NULL || locals == NULL || changed == NULL)
        goto fail;
    before = PyDict_GetItemWithError(t->seen, key); /* borrowed */
    if (before == NULL) {
        if (PyErr_Occurred() || (before = PyDict_New()) == NULL)
            goto fail;
        if (PyDict_SetItem(t->seen, key, before) != 0) {
            Py_DECREF(before);
            before = NULL;
            goto fail;
        }
        Py_DECREF(before); /* the seen dict holds it */
    }
    Py_INCREF(before);
    /* A snapshot of the locals: a repr may change them. */
    if (PyDict_Check(locals) && PyDict_GET_SIZE(locals) <= CT_STACK_LOCALS) {
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(locals, &pos, &k, &v) && n < CT_STACK_LOCALS) {
            names[n] = Py_NewRef(k);
            values[n] = Py_NewRef(v);
            n++;
        }
    } else {
        items = PyMapping_Items(locals);
        if (items == NULL)
            goto fail;
    }
    Py_ssize_t total = items != NULL ? PyList_GET_SIZE(items) : n;
    for (Py_ssize_t i = 0; i < total; i++) {
        PyObject *name = items ? PyTuple_GetItem(PyList_GET_ITEM(items, i), 0) : names[i];
        PyObject *value = items ? PyTuple_GetItem(PyList_GET_ITEM(items, i), 1) : values[i];
        if (name == NULL || value == NULL)
            goto fail;
        if (ct_skipped(name, value))
            continue;
        PyObject *seen = PyDict_GetItemWithError(before, name); /* borrowed (value, text) */
        if (seen == NULL && PyErr_Occurred())
            goto fail;
        int immutable = ct_immutable(value);
        if (seen != NULL && PyTuple_GET_ITEM(seen, 0) == value && immutable)
            continue;
        PyObject *text = ct_repr(t, value);
        if (text == NULL)
            goto fail;
        int differs = seen == NULL ? 1 : PyUnicode_Compare(PyTuple_GET_ITEM(seen, 1), text) != 0;
        if (differs && PyErr_Occurred()) {
            Py_DECREF(text);
            goto fail;
        }
        if (differs && PyDict_GET_SIZE(changed) < t->max_vars &&
            PyDict_SetItem(changed, name, text) != 0) {
            Py_DECREF(text);
            goto fail;
        }
        PyObject *now = PyTuple_Pack(2, immutable ? value : Py_None, text);
        Py_DECREF(text);
        if (now == NULL || PyDict_SetItem(before, name, now) != 0) {
            Py_XDECREF(now);
            goto fail;
        }
        Py_DECREF(now);
    }
    goto out;
fail:
    Py_CLEAR(changed);
out:
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_DECREF(names[i]);
        Py_DECREF(values[i]);
    }
    Py_XDECREF(items);
    Py_XDECREF(before);
    Py_XDECREF(locals);
    Py_XDECREF(key);
    return changed;
}

/* The text a step shows for line (cached). */
static PyObject *ct_code(ct_tracer *t, PyObject *line) /* borrowed */
{
    PyObject *code = PyDict_GetItemWithError(t->codes, line);
    if (code != NULL || PyErr_Occurred())
        return code;
    code = PyObject_CallOneArg(t->line_code, line);
    if (code == NULL || PyDict_SetItem(t->codes, line, code) != 0) {
        Py_XDECREF(code);
        return NULL;
    }
    Py_DECREF(code);
    return code; /* the cache holds it */
}

/* One recorded step as the harness's dict. */
static PyObject *ct_make(ct_tracer *t, PyObject *rec)
{
    PyObject *line = PyTuple_GET_ITEM(rec, 1);
    PyObject *code = ct_code(t, line);
    if (code == NULL)
        return NULL;
    long event = PyLong_AsLong(PyTuple_GET_ITEM(rec, 2));
    PyObject *values[5] = {PyTuple_GET_ITEM(rec, 0), line, code, ct_events[event],
                           PyTuple_GET_ITEM(rec, 3)};
    PyObject *d = PyDict_New();
    for (int i = 0; d != NULL && i < 5; i++)
        if (PyDict_SetItem(d, ct_keys[i], values[i]) != 0)
            Py_CLEAR(d);
    return d;
}

static void ct_stop_tracing(ct_tracer *t)
{
    if (t->active) {
        t->active = 0;
        PyEval_SetTrace(NULL, NULL);
    }
}

static int ct_record(ct_tracer *t, PyFrameObject *frame, int event)
{
    if (PyList_GET_SIZE(t->records) >= t->max_steps) {
        t->truncated = 1;
        ct_stop_tracing(t);
        return 0;
    }
    PyObject *changed = ct_changed(t, frame);
    if (changed == NULL)
        return -1;
    PyObject *rec = Py_BuildValue("(niiN)", PyList_GET_SIZE(t->records) + 1,
                                  PyFrame_GetLineNumber(frame), event, changed);
    if (rec == NULL || PyList_Append(t->records, rec) != 0) {
        Py_XDECREF(rec);
        return -1;
    }
    int rc = 0;
    if (t->emit != Py_None) {
        PyObject *step = ct_make(t, rec);
        PyObject *r = step ? PyObject_CallOneArg(t->emit, step) : NULL;
        rc = r != NULL ? 0 : -1;
        Py_XDECREF(r);
        Py_XDECREF(step);
    }
    Py_DECREF(rec);
    return rc;
}

/* Whether frame runs the user's code. */
static int ct_user(ct_tracer *t, PyFrameObject *frame)
{
    PyCodeObject *code = PyFrame_GetCode(frame);
    int user =
        code->co_filename == t->filename || PyUnicode_Compare(code->co_filename, t->filename) == 0;
    Py_DECREF(code);
    return user;
}

static int ct_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)arg;
    ct_tracer *t = (ct_tracer *)obj;
    if (t->truncated || !ct_user(t, frame))
        return 0;
    int event;
    switch (what) {
    case PyTrace_CALL: {
        /* The module's own start (its code called from outside) is no step. */
        PyFrameObject *back = PyFrame_GetBack(frame);
        PyCodeObject *code = PyFrame_GetCode(frame);
        int module = PyUnicode_CompareWithASCIIString(code->co_name, "<module>") == 0;
        int from_user = back != NULL && ct_user(t, back);
        Py_DECREF(code);
        Py_XDECREF(back);
        if (back != NULL && !from_user && module)
            return 0;
        event = 0;
        break;
    }
    case PyTrace_EXCEPTION:
        event = 1;
        break;
    case PyTrace_LINE:
        event = 2;
        break;
    case PyTrace_RETURN:
        event = 3;
        break;
    default:
        return 0;
    }
    int rc = ct_record(t, frame, event);
    if (rc != 0) {
        ct_stop_tracing(t); /* as sys.settrace does when its function raises */
        return -1;
    }
    if (what == PyTrace_RETURN) {
        PyObject *key = PyLong_FromVoidPtr(frame);
        if (key == NULL ||
            (PyDict_DelItem(t->seen, key) != 0 && !PyErr_ExceptionMatches(PyExc_KeyError))) {
            Py_XDECREF(key);
            ct_stop_tracing(t);
            return -1;
        }
        PyErr_Clear();
        Py_DECREF(key);
    }
    return 0;
}

/* --- the type -------------------------------------------------------------------- */

static int ct_init(PyObject *self, PyObject *args, PyObject *kwargs)
{
    /* Tracer(filename, max_steps, max_vars, repr_cap, safe_repr, line_code, emit,
     *        stop_types), positional only */
    ct_tracer *t = (ct_tracer *)self;
    PyObject *filename, *safe_repr, *line_code, *emit, *stop_types;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) > 0) {
        PyErr_SetString(PyExc_TypeError, "Tracer takes positional arguments only");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "UnnnOOOO", &filename, &t->max_steps, &t->max_vars, &t->repr_cap,
                          &safe_repr, &line_code, &emit, &stop_types))
        return -1;
    Py_XSETREF(t->filename, Py_NewRef(filename));
    Py_XSETREF(t->safe_repr, Py_NewRef(safe_repr));
    Py_XSETREF(t->line_code, Py_NewRef(line_code));
    Py_XSETREF(t->emit, Py_NewRef(emit));
    Py_XSETREF(t->stop_types, Py_NewRef(stop_types));
    Py_XSETREF(t->records, PyList_New(0));
    Py_XSETREF(t->codes, PyDict_New());
    Py_XSETREF(t->seen, PyDict_New());
    Py_CLEAR(t->made);
    t->truncated = 0;
    return t->records && t->codes && t->seen ? 0 : -1;
}

static void ct_dealloc(PyObject *self)
{
    ct_tracer *t = (ct_tracer *)self;
    ct_stop_tracing(t);
    Py_XDECREF(t->filename);
    Py_XDECREF(t->safe_repr);
    Py_XDECREF(t->line_code);
    Py_XDECREF(t->emit);
    Py_XDECREF(t->stop_types);
    Py_XDECREF(t->records);
    Py_XDECREF(t->codes);
    Py_XDECREF(t->seen);
    Py_XDECREF(t->made);
    Py_TYPE(self)->tp_free(self);
}

static PyObject *ct_start(PyObject *self, PyObject *unused)
{
    (void)unused;
    ct_tracer *t = (ct_tracer *)self;
    if (t->records == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the tracer was not initialised");
        return NULL;
    }
    t->active = 1;
    PyEval_SetTrace(ct_trace, self);
    Py_RETURN_NONE;
}

static PyObject *ct_stop(PyObject *self, PyObject *unused)
{
    (void)unused;
    ct_stop_tracing((ct_tracer *)self);
    Py_RETURN_NONE;
}

static PyObject *ct_get_steps(PyObject *self, void *closure)
{
    (void)closure;
    ct_tracer *t = (ct_tracer *)self;
    if (t->made == NULL && t->records != NULL) {
        Py_ssize_t n = PyList_GET_SIZE(t->records);
        PyObject *made = PyList_New(n);
        for (Py_ssize_t i = 0; made != NULL && i < n; i++) {
            PyObject *step = ct_make(t, PyList_GET_ITEM(t->records, i));
            if (step == NULL)
                Py_CLEAR(made);
            else
                PyList_SET_ITEM(made, i, step);
        }
        t->made = made;
    }
    return t->made != NULL ? Py_NewRef(t->made) : NULL;
}

static PyObject *ct_get_truncated(PyObject *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(((ct_tracer *)self)->truncated);
}

static PyMethodDef ct_methods[] = {
    {"start", ct_start, METH_NOARGS, "Starts tracing this thread (PyEval_SetTrace)."},
    {"stop", ct_stop, METH_NOARGS, "Stops tracing."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef ct_getset[] = {
    {"steps", ct_get_steps, NULL, "The recorded steps as the harness's dicts.", NULL},
    {"truncated", ct_get_truncated, NULL, "Whether the step cap stopped tracing.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ct_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "_pysandbox_trace.Tracer",
    .tp_basicsize = sizeof(ct_tracer),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The harness's step tracer in C (see web/harness.py _Tracer).",
    .tp_new = PyType_GenericNew,
    .tp_init = ct_init,
    .tp_dealloc = ct_dealloc,
    .tp_methods = ct_methods,
    .tp_getset = ct_getset,
};

static struct PyModuleDef ct_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_pysandbox_trace",
    .m_doc = "The harness's step tracer in C.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__pysandbox_trace(void)
{
    static const char *const keys[5] = {"step", "line_number", "line_code", "event", "variables"};
    for (int i = 0; i < 5; i++)
        if (ct_keys[i] == NULL && (ct_keys[i] = PyUnicode_InternFromString(keys[i])) == NULL)
            return NULL;
    for (int i = 0; i < 4; i++)
        if (ct_events[i] == NULL &&
            (ct_events[i] = PyUnicode_InternFromString(ct_event_names[i])) == NULL)
            return NULL;
    if (PyType_Ready(&ct_type) != 0)
        return NULL;
    PyObject *m = PyModule_Create(&ct_module);
    if (m != NULL && PyModule_AddObjectRef(m, "Tracer", (PyObject *)&ct_type) != 0)
        Py_CLEAR(m);
    return m;
}
