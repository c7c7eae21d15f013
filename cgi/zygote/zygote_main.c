/*
 * zygote_main.c - pysandbox-zygote: the warm interpreter that jailed children are cloned from.
 *
 * Started by the executor with execve, a fixed minimal environment and one
 * descriptor besides 0-2: fd 3, the SOCK_SEQPACKET control socket (see
 * zygote.h).  It initialises CPython with an isolated configuration,
 * imports and warms numpy, pandas, matplotlib (Agg), scipy, requests,
 * beautifulsoup4, openpyxl and the harness, measures the pre-copy plan
 * (precopy.h), builds the seccomp filters, then serves spawn requests.  For each it
 * clones one child into new namespaces (CLONE_PARENT: the child belongs to
 * the supervisor), writes the child's id maps, moves it into its slot's
 * cgroups (through descriptors the supervisor sends with the request),
 * releases it, and hands the supervisor the other ends of the child's
 * channel, output pipes and init status pipe.
 *
 * The zygote never reads a job.  Code and data go from the supervisor
 * straight to a jailed child, so no user's request ever sits in the memory
 * that later children are cloned from.  The zygote stays single-threaded
 * (it checks before every clone): thread pools of numerical libraries are
 * limited to one thread by the environment the executor gives it.
 *
 * Usage (by the executor only):
 *   pysandbox-zygote HARNESS JAIL_ROOT TMP_MB MAX_CPU_S MAX_NOFILE MAX_NPROC DENY_FORK PROC
 * Every child inherits this process's memory, including the exec-time
 * argument and environment blocks that /proc/self/cmdline and environ
 * show: main() copies what it needs and blanks the host paths there.
 *
 * A child runs one job and exits, or, for a sandbox (XP_FLAG_SANDBOX),
 * keeps its globals and runs one job after the other.
 *
 * Why one file of ~920 lines: the warm interpreter's setup, the probes of
 * the pre-copy plan and the child's job loop all work on the same few
 * file-scope objects (the harness entry point, the jail spec, the data
 * baseline) that every clone inherits; splitting them would export that
 * state to several files for no reader's gain.
 */
#include <Python.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "jail.h"
#include "ctrace.h"
#include "precopy.h"
#include "xproto.h"
#include "zygote.h"

#define CONTROL_FD 3

static PyObject *run_json;  /* new ref, kept for the zygote's life: harness.run_json */
static size_t baseline_data; /* VmData after warm-up, bytes: RLIMIT_DATA = this + job memory */
static int *tid_cache;       /* glibc's cached tid of the main thread (see spawn_child) */
static jail_spec spec;       /* this zygote's jail settings, from argv */
static bool child_precopy;   /* set before each clone: ZY_SPAWN_PRECOPY */
/* Slots whose private device nodes exist (jail_make_devices), and whether
 * this host allows them at all (a nodev filesystem does not). */
#define ZY_MAX_SLOTS 512
static unsigned char devices_made[ZY_MAX_SLOTS / 8];
static bool private_devices = true;
/* Every jail gets its own empty network namespace.  Sharing one (with
 * Landlock scoping abstract-socket connects) was cheaper, but a job could
 * read the others' socket names in /proc/net/unix and squat them. */
static int landlock_abi;
static char devices_note[APP_ERRMSG_LEN];
/* Where the slots' device directories (dev-N) are made: a tmpfs of the
 * zygote's own (devices_fs), else the jail root directory on the host. */
static char devices_root[PATH_MAX - 64];

static void die(const char *why)
{
    zy_msg m = {.type = ZY_FATAL};
    snprintf(m.text, sizeof m.text, "%s", why);
    send(CONTROL_FD, &m, sizeof m, MSG_NOSIGNAL);
    fprintf(stderr, "pysandbox-zygote: %s\n", why);
    exit(1);
}

static unsigned arg_uint(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*end != '\0' || v > UINT_MAX)
        die("bad numeric argument");
    return (unsigned)v;
}

static size_t vm_data_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    size_t kb = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmData: %zu kB", &kb) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kb * 1024;
}

static int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    if (d != NULL)
        closedir(d);
    return n;
}

/* Dies unless only fds 0-3 are open: a child closes every other descriptor,
 * and a Python object still owning one would then fail (or crash) there. */
static void check_no_open_files(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        die("cannot list /proc/self/fd");
    char open_files[1024] = "";
    size_t used = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name); /* checksrc: allow (names come from /proc, all digits) */
        if (e->d_name[0] == '.' || fd <= 3 || fd == dirfd(d))
            continue;
        char link[64], target[256] = "?";
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        target[n > 0 ? n : 1] = '\0';
        used += (size_t)snprintf(open_files + used, sizeof open_files - used, " %d=%s", fd, target);
        if (used >= sizeof open_files)
            break;
    }
    closedir(d);
    if (open_files[0] != '\0') {
        char msg[1200];
        snprintf(msg, sizeof msg, "the warm interpreter keeps files open:%s", open_files);
        die(msg);
    }
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 /* Linux 6.1 */
#endif

/*
 * Every clone copies the page tables of the warm interpreter's ~100 MB of
 * heap, and every exit tears them down: that is most of the cost of a job.
 * Collapsing the heap into transparent huge pages makes it one entry per
 * 2 MiB instead of 512.  MADV_HUGEPAGE is deliberately not set, so memory a
 * child allocates later still comes in small pages; a child writing to a
 * shared huge page gets its PMD split and copies only the 4 KiB it touched.
 * Returns the bytes collapsed (0 on kernels without MADV_COLLAPSE).
 */
static size_t collapse_heap(void)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (f == NULL)
        return 0;
    char line[512];
    size_t done = 0;
    const uintptr_t huge = 2u << 20;
    while (fgets(line, sizeof line, f) != NULL) {
        uintptr_t lo, hi;
        char perms[8], path[256] = "";
        unsigned long inode;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %lu %255s", &lo, &hi, perms, &inode, path) < 4)
            continue;
        if (strcmp(perms, "rw-p") != 0 || inode != 0 || (path[0] != '\0' && strcmp(path, "[heap]") != 0))
            continue;
        uintptr_t start = (lo + huge - 1) & ~(huge - 1), end = hi & ~(huge - 1);
        if (end > start && madvise((void *)start, end - start, MADV_COLLAPSE) == 0)
            done += end - start;
    }
    fclose(f);
    return done;
}

/* --- Python ------------------------------------------------------------- */

/* Imports the data-science stack and the harness, and runs a representative
 * program through the harness so lazy first-call costs (pandas formatting,
 * matplotlib fonts, BLAS) are paid here, once, not in every child. */
static const char warmup_py[] =
    "import gc, json, os, sys, time\n"
    "t0 = time.perf_counter()\n"
    "sys.path.append('/usr/lib/python3/dist-packages')\n"
    "import numpy, pandas, scipy, matplotlib\n"
    "# Light enough to preload (docs/PERFORMANCE.md); scikit-learn, seaborn\n"
    "# and statsmodels double the interpreter's mappings and load on first use.\n"
    "import requests, bs4, openpyxl\n"
    "matplotlib.use('Agg')\n"
    "import matplotlib.pyplot\n"
    "# Compiled under a neutral name: the host path of the file must not show\n"
    "# in the jail (tracebacks, __file__, code objects).\n"
    "import types\n"
    "with open(HARNESS_PATH, encoding='utf-8') as f:\n"
    "    code = compile(f.read(), '/pysandbox/harness.py', 'exec')\n"
    "harness = types.ModuleType('pysandbox_harness')\n"
    "harness.__file__ = '/pysandbox/harness.py'\n"
    "sys.modules['pysandbox_harness'] = harness\n"
    "exec(code, harness.__dict__)\n"
    "WARM = '''\n"
    "import json, statistics, re, datetime, collections, math\n"
    "import numpy as np, pandas as pd, matplotlib.pyplot as plt\n"
    "rng = np.random.default_rng(0)\n"
    "df = pd.DataFrame({'a': np.arange(300), 'b': rng.normal(size=300), 'c': ['x', 'y', 'z'] * 100})\n"
    "df.describe(); df.groupby('c').mean(numeric_only=True); df.to_html(); df.to_json()\n"
    "pd.DataFrame(data).describe()\n"
    "m = rng.random((64, 64)); np.linalg.inv(m @ m.T + np.eye(64))\n"
    "fig, ax = plt.subplots(); ax.plot([1, 2, 3], [3, 1, 2]); ax.set_title('warm'); plt.show()\n"
    "print(df.head())\n"
    "__result__ = {'frame': df.head(3), 'n': 1.5}\n"
    "'''\n"
    "r = json.loads(harness.run_json(WARM, json.dumps([{'x': i, 'y': i * i} for i in range(100)])))\n"
    "if r['status'] != 'ok':\n"
    "    raise RuntimeError('warm-up failed: %r' % (r['error'],))\n"
    "# Debian's interpreter path, mounted (no-exec) in the jail: libraries read\n"
    "# it; running it is refused like every other program (see below).\n"
    "sys.executable = sys._base_executable = '/usr/bin/python3'\n"
    "# Starting a program is refused by seccomp (execve); these say so in words\n"
    "# instead of a bare 'Operation not permitted'.  A message, not the wall.\n"
    "def refuse_programs():\n"
    "    import errno, os, pty, subprocess, _posixsubprocess\n"
    "    def refuser(name, pick):\n"
    "        def refuse(*args, **kwargs):\n"
    "            program = pick(args, kwargs)\n"
    "            program = os.fsdecode(program) if isinstance(program, (str, bytes)) else str(program)\n"
    "            raise PermissionError(errno.EPERM, 'running other programs is not available '\n"
    "                                  'in the sandbox', program)\n"
    "        refuse.__name__ = refuse.__qualname__ = name\n"
    "        return refuse\n"
    "    first = lambda a, k: a[0] if a else k.get('path', k.get('command', ''))\n"
    "    for name in ('execv', 'execve', 'posix_spawn', 'posix_spawnp', 'system'):\n"
    "        setattr(os, name, refuser(name, first))\n"
    "    # subprocess and multiprocessing's spawn: fork_exec(args, executables, ...)\n"
    "    fork_exec = refuser('fork_exec', lambda a, k: a[0][0] if a and a[0] else '')\n"
    "    _posixsubprocess.fork_exec = subprocess._fork_exec = fork_exec\n"
    "    pty.spawn = refuser('spawn', first)\n"
    "refuse_programs()\n"
    "del refuse_programs\n"
    "import importlib.metadata\n"
    "# The packages the native engine promises: import name, distribution.\n"
    "PACKAGES = [('numpy', 'numpy'), ('pandas', 'pandas'), ('scipy', 'scipy'),\n"
    "            ('matplotlib', 'matplotlib'), ('sklearn', 'scikit-learn'),\n"
    "            ('seaborn', 'seaborn'), ('statsmodels', 'statsmodels'), ('requests', 'requests'),\n"
    "            ('bs4', 'beautifulsoup4'), ('openpyxl', 'openpyxl')]\n"
    "INFO = json.dumps({\n"
    "    'python': sys.version.split()[0],\n"
    "    'packages': {name: importlib.metadata.version(dist) for name, dist in PACKAGES},\n"
    "    'preloaded': [name for name, _ in PACKAGES if name in sys.modules],\n"
    "    'warmupMs': round((time.perf_counter() - t0) * 1000),\n"
    "})\n"
    "del r, code, f, t0\n"
    "# The font cache was read from (or written to) the host directory named\n"
    "# by MPLCONFIGDIR; jobs get the jail's own, and matplotlib must look again.\n"
    "os.environ['MPLCONFIGDIR'] = '/tmp/matplotlib'\n"
    "for name in ('get_configdir', 'get_cachedir'):\n"
    "    fn = getattr(matplotlib, name)\n"
    "    setattr(matplotlib, name, matplotlib._logged_cached(name.upper()[4:] + '=%s', fn.__wrapped__))\n"
    "del name, fn\n"
    "# Children start with only fds 0-3: cached fonts must not keep files open.\n"
    "import matplotlib.font_manager\n"
    "matplotlib.font_manager._get_font.cache_clear()\n"
    "gc.collect()\n"
    "# Objects alive now live as long as the zygote: keep the collector from\n"
    "# touching (and so copying) their pages in every child.\n"
    "gc.freeze()\n";

/* --- Python's arenas ------------------------------------------------------
 *
 * Every clone copies the page-table entries of the zygote's anonymous
 * memory, and every child's exit frees them: 4 KiB pages cost about 1.3 ms
 * per 50 MB each way, 2 MiB huge pages almost nothing.  Most of that memory
 * is Python's objects, which obmalloc takes in 1 MiB arenas; with mmap()
 * they land in scattered, unaligned mappings that cannot hold huge pages.
 * Here they come, in order, from one 2 MiB-aligned reservation, so after the
 * warm-up collapse_heap() turns them into huge pages.  The reservation is
 * PROT_NONE and made writable arena by arena, so RLIMIT_DATA still counts
 * (and limits) what a job's objects really use.
 */
#define ARENA_RESERVE ((size_t)64 << 30) /* address space only */
#define HUGE_PAGE ((size_t)2 << 20)

static char *arena_base;   /* 2 MiB-aligned start of the reservation */
static size_t arena_used;  /* bytes handed out from the start, ever */
static void *arena_free_list; /* freed arenas; the first word links them */

/* The arena allocator also serves the interpreter's frame stack chunks
 * (other sizes, freed often): those keep their own mappings. */
#define OBMALLOC_ARENA ((size_t)1 << 20)

static void *arena_alloc(void *ctx, size_t size)
{
    (void)ctx;
    if (size != OBMALLOC_ARENA) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }
    if (arena_free_list != NULL) {
        void *p = arena_free_list;
        memcpy(&arena_free_list, p, sizeof arena_free_list);
        return p;
    }
    if (arena_base == NULL) {
        void *p = mmap(NULL, ARENA_RESERVE + HUGE_PAGE, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
        arena_base = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    }
    if (size > ARENA_RESERVE - arena_used)
        return NULL;
    char *p = arena_base + arena_used;
    /* Fails with ENOMEM past RLIMIT_DATA: Python raises MemoryError. */
    if (mprotect(p, size, PROT_READ | PROT_WRITE) != 0)
        return NULL;
    arena_used += size;
    return p;
}

static void arena_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if ((char *)ptr < arena_base || (char *)ptr >= arena_base + ARENA_RESERVE) {
        munmap(ptr, size);
        return;
    }
    /* The memory goes back to the kernel; the address stays ours. */
    madvise(ptr, OBMALLOC_ARENA, MADV_DONTNEED);
    memcpy(ptr, &arena_free_list, sizeof arena_free_list);
    arena_free_list = ptr;
}

/* After the warm-up: the rest of the reservation (what jobs will use) gets
 * ordinary pages, whatever the host's THP setting, so a job's first object
 * does not cost a 2 MiB page. */
static void arena_settle(void)
{
    if (arena_base == NULL)
        return;
    size_t start = (arena_used + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
    madvise(arena_base + start, ARENA_RESERVE - start, MADV_NOHUGEPAGE);
}

static void init_python(const char *harness_path, char *info, size_t infolen)
{
    PyObjectArenaAllocator arenas = {NULL, arena_alloc, arena_free};
    PyObject_SetArenaAllocator(&arenas);
    /* The isolated pre-configuration leaves the C locale, whose filesystem
     * encoding is ASCII; CPython on a UTF-8 Linux system uses UTF-8. */
    PyPreConfig pre;
    PyPreConfig_InitIsolatedConfig(&pre);
    pre.utf8_mode = 1;
    pre.configure_locale = 1;
    PyStatus pst = Py_PreInitialize(&pre);
    if (PyStatus_Exception(pst))
        die(pst.err_msg != NULL ? pst.err_msg : "Python pre-initialisation failed");
    PyConfig config;
    /* The step tracer in C, importable before any path is searched. */
    if (PyImport_AppendInittab("_pysandbox_trace", PyInit__pysandbox_trace) != 0)
        die("cannot register the step tracer");
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0; /* no .pth processing; the warm-up adds dist-packages */
    config.write_bytecode = 0;
    config.buffered_stdio = 0; /* output written before a kill is kept */
    config.install_signal_handlers = 0;
    config.parse_argv = 0;
    /* sys.path, sys.prefix and sys._stdlib_dir are computed from the home
     * as in Debian's python3.11; with them the frozen stdlib modules (os,
     * codecs, ...) get their __file__, which inspect and many libraries read. */
    static wchar_t argv0[] = L"pysandbox";
    wchar_t *argv[] = {argv0};
    PyStatus st = PyConfig_SetString(&config, &config.program_name, L"pysandbox");
    if (!PyStatus_Exception(st))
        st = PyConfig_SetString(&config, &config.home, L"/usr");
    if (!PyStatus_Exception(st))
        st = PyConfig_SetArgv(&config, 1, argv);
    if (!PyStatus_Exception(st))
        st = PyConfig_SetBytesString(&config, &config.stdio_encoding, "utf-8");
    if (!PyStatus_Exception(st)) /* printing a lone surrogate must not kill the run */
        st = PyConfig_SetBytesString(&config, &config.stdio_errors, "backslashreplace");
    if (!PyStatus_Exception(st))
        st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st))
        die(st.err_msg != NULL ? st.err_msg : "Python initialisation failed");

    PyObject *main_mod = PyImport_AddModule("__main__");      /* borrowed */
    PyObject *globals = PyModule_GetDict(main_mod);          /* borrowed */
    PyObject *path = PyUnicode_FromString(harness_path);     /* new ref */
    if (path == NULL || PyDict_SetItemString(globals, "HARNESS_PATH", path) != 0)
        die("cannot pass the harness path");
    Py_DECREF(path);
    PyObject *r = PyRun_String(warmup_py, Py_file_input, globals, globals); /* new ref */
    if (r == NULL) {
        PyErr_Print();
        die("warm-up failed (see the executor log)");
    }
    Py_DECREF(r);
    PyObject *info_obj = PyDict_GetItemString(globals, "INFO");             /* borrowed */
    const char *info_text = info_obj ? PyUnicode_AsUTF8(info_obj) : NULL;
    snprintf(info, infolen, "%s", info_text ? info_text : "{}");
    PyObject *harness = PyImport_ImportModule("pysandbox_harness"); /* new ref */
    run_json = harness ? PyObject_GetAttrString(harness, "run_json") : NULL; /* new ref */
    /* Database requests go over the child's channel (fd 3 in the jail). */
    PyObject *fd3 = PyLong_FromLong(3); /* new ref */
    if (harness == NULL || fd3 == NULL || PyObject_SetAttrString(harness, "DB_CHANNEL_FD", fd3) != 0)
        die("cannot give the harness its database channel");
    Py_XDECREF(fd3);
    Py_XDECREF(harness);
    if (run_json == NULL)
        die("harness.run_json is missing");
    /* The globals of the warm-up must not outlive it in every child. */
    PyDict_Clear(globals);
    PyDict_SetItemString(globals, "__name__", PyUnicode_FromString("__main__"));
}

/* --- the child ---------------------------------------------------------- */

static void child_fail(int chan, const char *why)
{
    char buf[ZY_TEXT_MAX];
    int n = snprintf(buf, sizeof buf, "%c%s", ZY_CHILD_FAILED, why);
    /* The channel is fd 3 once jail_fds ran, chan before; try both. */
    if (write(3, buf, (size_t)n) < 0 && chan != 3)
        (void)!write(chan, buf, (size_t)n);
    _exit(121);
}

/* Writes one result frame: a u32 length and the harness's JSON. */
static void write_result(const char *text, Py_ssize_t len)
{
    if ((size_t)len > XP_MAX_CHILD_RESULT) {
        text = "{\"status\":\"output_limit\",\"error\":{\"type\":\"ResultTooLarge\",\"message\":"
               "\"the result and charts are larger than the limit\",\"traceback\":\"\"}}";
        len = (Py_ssize_t)strlen(text);
    }
    uint32_t n = (uint32_t)len;
    if (xp_write_full(3, &n, sizeof n) != 0 || xp_write_full(3, text, (size_t)len) != 0)
        _exit(ZY_EXIT_NO_CHANNEL);
}

/* Reads a job (header, code, data), applies its limits (the first job's,
 * for life), runs the harness and writes the result.  A one-shot child
 * then exits; a sandbox's (XP_FLAG_SANDBOX) keeps its globals and waits
 * for the next job, until the supervisor closes the channel or kills it. */
static void child_run(void)
{
    char err[APP_ERRMSG_LEN];
    PyObject *session = NULL; /* new ref: a sandbox's globals, kept between jobs */
    for (bool first = true;; first = false) {
        xp_req_hdr h;
        if (xp_read_full(3, &h, sizeof h) != 0)
            _exit(0); /* the supervisor closed the channel: the pool is shrinking */
        bool sandbox = (h.flags & XP_FLAG_SANDBOX) != 0;
        bool program = (h.flags & XP_FLAG_PROGRAM) != 0;
        bool trace = (h.flags & XP_FLAG_TRACE) != 0;
        bool steps = trace && (h.flags & XP_FLAG_STEPS) != 0; /* each step also on fd 3 */
        bool insights = (h.flags & XP_FLAG_INSIGHTS) != 0;
        if (h.magic != XP_MAGIC_REQ || h.op != XP_OP_JOB || h.code_len > XP_MAX_CODE ||
            h.data_len > XP_MAX_DATA || (!first && !sandbox) || (sandbox && program))
            _exit(122);
        char *code = malloc((size_t)h.code_len + 1);
        char *data = malloc((size_t)h.data_len + 1);
        if (code == NULL || data == NULL || xp_read_full(3, code, h.code_len) != 0 ||
            xp_read_full(3, data, (size_t)h.data_len) != 0)
            _exit(123);
        if (first) {
            jail_job job = {
                /* A sandbox's CPU budget is its lifetime; a job's, its CPU
                 * limit, or its wall time when it has none. */
                .cpu_s = sandbox ? h.life_s : xp_job_rlimit_cpu_s(h.wall_ms, h.cpu_ms),
                .nofile = h.nofile,
                .nproc = spec.max_nproc > 0 ? h.nproc : 0, /* per-slot uid only; else pids cgroup */
                .data = baseline_data + ((size_t)h.memory_mb << 20),
                .memory = (size_t)h.memory_mb << 20,
            };
            if (jail_job_limits(&job, err, sizeof err) != APP_OK)
                _exit(124);
            if (sandbox && (session = PyDict_New()) == NULL)
                _exit(126);
        }
        if (program) {
            /* A plain program reads its input from stdin: hand it a file. */
            int in = memfd_create("stdin", MFD_CLOEXEC);
            if (in < 0 || xp_write_full(in, data, (size_t)h.data_len) != 0 ||
                lseek(in, 0, SEEK_SET) != 0 || dup2(in, 0) != 0)
                _exit(127);
            close(in);
            /* redirect_stderr_to_stdout: one pipe, so the supervisor reads
             * both in the order they were written (stdio is unbuffered). */
            if ((h.flags & XP_FLAG_MERGE_STDERR) != 0 && dup2(1, 2) != 2)
                _exit(127);
        }
        PyObject *code_obj = PyUnicode_DecodeUTF8(code, h.code_len, "strict"); /* new ref */
        /* A sandbox's data is rebound only when sent; its first run binds []. */
        PyObject *data_obj = program || (sandbox && h.data_len == 0 && !first) /* new ref */
                                 ? Py_NewRef(Py_None)
                             : sandbox && h.data_len == 0
                                 ? PyUnicode_FromString("[]")
                                 : PyUnicode_DecodeUTF8(data, (Py_ssize_t)h.data_len, "strict");
        free(code);
        free(data);
        PyObject *result = NULL;                                         /* new ref */
        PyObject *trace_obj = PyLong_FromLong(steps ? 2 : trace ? 1 : 0); /* new ref */
        PyObject *args = code_obj != NULL && data_obj != NULL && trace_obj != NULL /* new ref */
                             ? PyTuple_Pack(6, code_obj, data_obj, Py_False,
                                            program ? Py_True : Py_False,
                                            session != NULL ? session : Py_None, trace_obj)
                             : NULL;
        /* insights only when asked: a keyword the harness may grow more of */
        PyObject *kwargs = insights ? Py_BuildValue("{s:O}", "insights", Py_True) : NULL; /* new ref */
        if (args != NULL && (!insights || kwargs != NULL))
            result = PyObject_Call(run_json, args, kwargs);
        Py_XDECREF(args);
        Py_XDECREF(kwargs);
        Py_XDECREF(code_obj);
        Py_XDECREF(data_obj);
        Py_XDECREF(trace_obj);
        Py_ssize_t len = 0;
        const char *text = result ? PyUnicode_AsUTF8AndSize(result, &len) : NULL;
        if (text == NULL) {
            PyErr_Print(); /* reaches the job's stderr */
            _exit(125);
        }
        if (!sandbox) {
            /* From here nothing more reaches stdout/stderr: their pipes get
             * EOF now (unless the job left processes holding them), which
             * tells the supervisor it may answer as soon as the result below
             * is complete. */
            dup2(0, 1);
            dup2(0, 2);
            write_result(text, len);
            _exit(0); /* no interpreter finalisation: the namespace is discarded anyway */
        }
        write_result(text, len); /* the supervisor answers on it: the output came first */
        Py_DECREF(result);
    }
}

/* The runner (PID 2 of the jail): reports readiness, then runs its job(s). */
static void runner(void *arg, const char *jail_error)
{
    (void)arg;
    if (jail_error != NULL)
        child_fail(3, jail_error);
    /* The pages jobs write, copied now in a few calls instead of one page
     * fault each during the job (precopy.h); those of a data job only when
     * the supervisor says the machine has CPU to spare. */
    (void)pc_apply(PC_CORE);
    if (child_precopy)
        (void)pc_apply(PC_DATA);
    /* Jailed: only now touch Python (at-fork hooks run inside the jail). */
    PyOS_AfterFork_Child();
    char ready = ZY_CHILD_READY;
    if (xp_write_full(3, &ready, 1) != 0)
        _exit(0);
    child_run();
}

static void child_main(unsigned slot, const jail_io *io, int sync_fd)
{
    char c;
    /* Wait until the zygote has written our id maps and moved us into the
     * slot's cgroups. */
    if (read(sync_fd, &c, 1) != 1)
        _exit(120);
    char dev_dir[PATH_MAX];
    jail_spec mine = spec;
    mine.tid_cache = tid_cache;
    if (private_devices) {
        snprintf(dev_dir, sizeof dev_dir, "%s/dev-%u", devices_root, slot);
        mine.dev_dir = dev_dir;
    }
    char err[APP_ERRMSG_LEN];
    app_ignore(jail_enter(&mine, io, runner, NULL, err, sizeof err)); /* returns only on failure */
    child_fail(io->channel_fd, err);
}

/* --- spawning ----------------------------------------------------------- */

static void reply(const zy_msg *m, const int *fds, int nfds)
{
    if (!zy_send(CONTROL_FD, m, fds, nfds))
        exit(0); /* the executor is gone */
}

static void spawn_failed(zy_msg *m, int err, const char *what)
{
    m->type = ZY_SPAWNED;
    m->pid = -1;
    m->err = err != 0 ? err : EIO;
    snprintf(m->text, sizeof m->text, "%s: %s", what, strerror(m->err));
    reply(m, NULL, 0);
}

/*
 * A jail's device nodes are bind mounts, and its mountinfo shows each one's
 * path within the filesystem it lives on.  Made on the host's /tmp, that
 * path was the jail root's (/tmp/pysandbox-jail.XXXX/dev-0/null); made on a
 * tmpfs of their own it is only "/dev-0/null".  The tmpfs is mounted in a
 * mount namespace of the zygote's own, which its children inherit and which
 * vanishes with it (nothing to clean up on the host).  Host mounts still
 * propagate in (MS_SLAVE), so unmounting a host filesystem is not held up.
 * Where this is not allowed (no privilege), the nodes stay where they were.
 */
static void devices_fs(void)
{
    char dir[sizeof devices_root];
    if (snprintf(devices_root, sizeof devices_root, "%s", spec.root_dir) >= (int)sizeof devices_root ||
        snprintf(dir, sizeof dir, "%s/devices", spec.root_dir) >= (int)sizeof dir)
        die("the jail root directory's path is too long");
    if (geteuid() != 0)
        return; /* private nodes need root anyway (ensure_devices) */
    const char *step = NULL;
    if (unshare(CLONE_NEWNS) != 0)
        step = "unshare(CLONE_NEWNS)";
    else if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0)
        step = "make mounts slaves";
    else if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        step = dir;
    else if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,nr_inodes=1024,mode=755") !=
             0)
        step = "mount the devices tmpfs";
    if (step != NULL) {
        fprintf(stderr, "pysandbox-zygote: device nodes stay on the host's /tmp: %s: %s\n", step,
                strerror(errno));
        return;
    }
    snprintf(devices_root, sizeof devices_root, "%s", dir);
}

/* Makes the slot's private device nodes once; on the first failure the
 * zygote falls back to the host's nodes for good (and says so). */
static void ensure_devices(unsigned slot)
{
    if (!private_devices || (slot < ZY_MAX_SLOTS && (devices_made[slot / 8] & (1u << (slot % 8)))))
        return;
    char dir[PATH_MAX], err[APP_ERRMSG_LEN];
    snprintf(dir, sizeof dir, "%s/dev-%u", devices_root, slot);
    if (jail_make_devices(dir, err, sizeof err) != APP_OK) {
        private_devices = false;
        snprintf(devices_note, sizeof devices_note, "%s", err);
        fprintf(stderr, "pysandbox-zygote: jails use the host's device nodes: %s\n", err);
        return;
    }
    if (slot < ZY_MAX_SLOTS)
        devices_made[slot / 8] |= (unsigned char)(1u << (slot % 8));
}

/* Writes pid into each cgroup.procs the supervisor opened for the slot. */
static bool attach_cgroups(long pid, const int *cg_fds, int ncg, char *err, size_t errlen)
{
    char text[24];
    int n = snprintf(text, sizeof text, "%ld", pid);
    for (int i = 0; i < ncg; i++) {
        if (write(cg_fds[i], text, (size_t)n) != n) {
            snprintf(err, errlen, "moving the child into its slot's cgroups: %s", strerror(errno));
            return false;
        }
    }
    return true;
}

static void close_pairs(int (*pairs)[2], size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 2; k++)
            if (pairs[i][k] >= 0) {
                close(pairs[i][k]);
                pairs[i][k] = -1;
            }
}

static void spawn_child(zy_msg *m, const int *cg_fds, int ncg)
{
    /* channel, stdout, stderr, init status, release */
    int p[5][2] = {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}};
    enum { CHAN, OUT, ERR, STATUS, SYNC };
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p[CHAN]) != 0 ||
        pipe2(p[OUT], O_CLOEXEC) != 0 || pipe2(p[ERR], O_CLOEXEC) != 0 ||
        pipe2(p[STATUS], O_CLOEXEC) != 0 || pipe2(p[SYNC], O_CLOEXEC) != 0) {
        int e = errno;
        close_pairs(p, 5);
        spawn_failed(m, e, "creating the child's descriptors");
        return;
    }
    ensure_devices(m->slot);
    if (thread_count() != 1) {
        die("the zygote has more than one thread; refusing to fork");
    }
    /* No PyOS_BeforeFork()/PyOS_AfterFork_Parent() around the clone: they
     * exist for locks other threads may hold (there are none: checked
     * above) and they run Python's at-fork hooks here, whose writes to
     * objects would copy, and split, the huge pages every child shares
     * with us.  The child still runs PyOS_AfterFork_Child(). */
    /* A raw clone (glibc's fork() cannot add namespaces or CLONE_PARENT)
     * leaves glibc's cached tid of the main thread stale; CLONE_CHILD_SETTID
     * makes the kernel store the child's real tid there, so raise(),
     * abort() and pthread_kill() keep working in the child. */
    child_precopy = (m->flags & ZY_SPAWN_PRECOPY) != 0;
    unsigned long flags = JAIL_CLONE_FLAGS | CLONE_PARENT | (tid_cache ? CLONE_CHILD_SETTID : 0);
    long pid = syscall(SYS_clone, flags, NULL, NULL, tid_cache, 0);
    if (pid == 0) {
        /* The supervisor's ends are not ours; the release pipe's write end
         * must go at once, or a zygote dying before the release would leave
         * us waiting for it forever. */
        for (int i = 0; i < 4; i++)
            close(p[i][0]);
        close(p[SYNC][1]);
        jail_io io = {.stdout_fd = p[OUT][1], .stderr_fd = p[ERR][1], .channel_fd = p[CHAN][1],
                      .status_fd = p[STATUS][1]};
        child_main(m->slot, &io, p[SYNC][0]);
        _exit(127);
    }
    int clone_errno = errno;
    for (int i = 0; i < 4; i++) { /* the child's ends */
        close(p[i][1]);
        p[i][1] = -1;
    }
    close(p[SYNC][0]);
    p[SYNC][0] = -1;
    if (pid < 0) {
        close_pairs(p, 5);
        spawn_failed(m, clone_errno, "clone");
        return;
    }
    char err[APP_ERRMSG_LEN];
    if (jail_write_id_maps((pid_t)pid, m->outside_uid, m->outside_gid, err, sizeof err) != APP_OK ||
        !attach_cgroups(pid, cg_fds, ncg, err, sizeof err)) {
        kill((pid_t)pid, SIGKILL);
        close_pairs(p, 5);
        m->type = ZY_SPAWNED;
        m->pid = (int32_t)pid; /* still the supervisor's child: it reaps it */
        m->err = EPERM;
        snprintf(m->text, sizeof m->text, "%s", err);
        reply(m, NULL, 0);
        return;
    }
    (void)!write(p[SYNC][1], "g", 1);
    m->type = ZY_SPAWNED;
    m->pid = (int32_t)pid;
    m->err = 0;
    m->text[0] = '\0';
    int fds[ZY_CHILD_FDS] = {p[CHAN][0], p[OUT][0], p[ERR][0], p[STATUS][0]};
    reply(m, fds, ZY_CHILD_FDS);
    close_pairs(p, 5);
}

/* The jobs the pre-copy plans are measured with (pc_plan_measure): any job
 * (the core plan), and what the engine is for, a pandas summary of posted
 * rows (the data plan). */
static const char *const probe_code[PC_KINDS] = {
    [PC_CORE] = "print(1)\n",
    [PC_DATA] = "import pandas as pd\nprint(pd.DataFrame(data).describe())\n",
};
static const char probe_data_py[] =
    "import json, random\n"
    "rng = random.Random(7)\n"
    "PROBE_DATA = json.dumps([{'id': i, 'price': round(rng.uniform(1, 500), 2),\n"
    "                          'qty': rng.randint(1, 40), 'score': rng.gauss(50, 12)}\n"
    "                         for i in range(1000)])\n";

typedef struct probe_args {
    const char *code;
    PyObject *data; /* borrowed */
} probe_args;

/* Runs in the probe child as a pooled child would: at-fork hooks, then a
 * job through the harness, output discarded. */
static void probe_job(void *arg)
{
    const probe_args *a = arg;
    PyOS_AfterFork_Child();
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_fd < 0 || dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0)
        _exit(5);
    PyObject *code = PyUnicode_FromString(a->code); /* new ref */
    PyObject *r = code ? PyObject_CallFunctionObjArgs(run_json, code, a->data, Py_False, Py_False,
                                                      NULL)
                       : NULL; /* new ref */
    if (r == NULL)
        _exit(6);
    Py_DECREF(r);
    Py_DECREF(code);
}

/* Measures the pre-copy plans, core first; without them, children copy on
 * write as before. */
static void plan_precopy(pc_stats pcs[PC_KINDS])
{
    char err[APP_ERRMSG_LEN];
    PyObject *globals = PyDict_New(); /* new ref */
    PyObject *r = globals ? PyRun_String(probe_data_py, Py_file_input, globals, globals) : NULL;
    PyObject *data = globals ? PyDict_GetItemString(globals, "PROBE_DATA") : NULL; /* borrowed */
    pc_range in_use[1];
    jail_runner_stack(&in_use[0].start, &in_use[0].end);
    for (int k = 0; k < PC_KINDS; k++) {
        probe_args a = {probe_code[k], data};
        pcs[k] = (pc_stats){0};
        if (data == NULL)
            fprintf(stderr, "pysandbox-zygote: no pre-copy plan: the probe's data failed\n");
        else if (pc_plan_measure((pc_kind)k, probe_job, &a, in_use, 1, &pcs[k], err, sizeof err) !=
                 APP_OK)
            fprintf(stderr, "pysandbox-zygote: no pre-copy plan: %s\n", err);
    }
    Py_XDECREF(r);
    Py_XDECREF(globals);
    PyErr_Clear();
}

/* Finds glibc's cached tid of this thread (exported for libthread_db). */
static int *find_tid_cache(void)
{
    const uint32_t *desc = dlsym(RTLD_DEFAULT, "_thread_db_pthread_tid");
    if (desc == NULL || desc[0] != 32)
        return NULL;
    int *p = (int *)((char *)pthread_self() + desc[2]);
    return *p == (int)gettid() ? p : NULL;
}

/*
 * Keeps a copy of argv[i] in out and blanks the original: children would
 * show it in /proc/self/cmdline, and these are host paths.
 */
static void take_arg(char *argv_i, char *out, size_t len)
{
    snprintf(out, len, "%s", argv_i);
    memset(argv_i, 0, strlen(argv_i));
}

/* Same for the environment block: MPLCONFIGDIR names a host directory.
 * setenv() moves the live value to the heap; the exec-time copy, which
 * /proc/self/environ shows, is blanked. */
static void hide_env_value(const char *name)
{
    size_t nlen = strlen(name);
    for (char **e = environ; *e != NULL; e++) {
        if (strncmp(*e, name, nlen) != 0 || (*e)[nlen] != '=')
            continue;
        char *original = *e;
        if (setenv(name, original + nlen + 1, 1) != 0)
            die("setenv");
        memset(original, 0, strlen(original));
        return;
    }
}

int main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "pysandbox-zygote is started by pysandbox-executor\n");
        return 2;
    }
    /* Only fds 0-2 and the control socket are ours to keep. */
    if (syscall(SYS_close_range, 4u, ~0u, 0u) != 0)
        for (int fd = 4; fd < 1024; fd++)
            close(fd);
    /* As root, the inherited supplementary groups (root's) would follow
     * every child into its jail; drop them. */
    if (geteuid() == 0 && setgroups(0, NULL) != 0)
        die("setgroups");
    static char harness_path[PATH_MAX], root_dir[PATH_MAX];
    take_arg(argv[1], harness_path, sizeof harness_path);
    take_arg(argv[2], root_dir, sizeof root_dir);
    hide_env_value("MPLCONFIGDIR");
    landlock_abi = jail_landlock_abi();
    spec = (jail_spec){
        .root_dir = root_dir,
        .tmp_mb = arg_uint(argv[3]),
        .max_cpu_s = arg_uint(argv[4]),
        .max_nofile = arg_uint(argv[5]),
        .max_nproc = arg_uint(argv[6]),
        .deny_fork = arg_uint(argv[7]) != 0,
        .mount_proc = arg_uint(argv[8]) != 0,
        .scope_unix = landlock_abi >= 6,
    };
    devices_fs();
    tid_cache = find_tid_cache();
    if (tid_cache == NULL)
        fprintf(stderr, "pysandbox-zygote: glibc's tid cache not found; raise() in jobs may fail\n");

    char info[ZY_TEXT_MAX - 1024];
    init_python(harness_path, info, sizeof info);
    char err[APP_ERRMSG_LEN];
    /* Before measuring the baseline: the runner's stack is part of it. */
    spec.max_data = 0;
    if (jail_prepare(&spec, err, sizeof err) != APP_OK)
        die(err);
    baseline_data = vm_data_bytes();
    if (thread_count() != 1)
        die("importing the warm packages started threads; set their thread counts to 1");
    check_no_open_files();
    size_t collapsed = collapse_heap();
    arena_settle();
    pc_stats pcs[PC_KINDS];
    plan_precopy(pcs);
    ensure_devices(0); /* finds out now whether this host allows private nodes */

    zy_msg m = {.type = ZY_READY};
    char note[2 * APP_ERRMSG_LEN] = "null";
    if (!private_devices) {
        /* The note is our own text (strerror and paths): quotes only need escaping. */
        size_t w = 0;
        note[w++] = '"';
        for (const char *c = devices_note; *c != '\0' && w < sizeof note - 3; c++) {
            if (*c == '"' || *c == '\\')
                note[w++] = '\\';
            note[w++] = (unsigned char)*c < 0x20 ? ' ' : *c;
        }
        note[w++] = '"';
        note[w] = '\0';
    }
    snprintf(m.text, sizeof m.text,
             "{\"info\":%s,\"baselineDataKb\":%zu,\"hugePagesKb\":%zu,\"tidFixup\":%s,"
             "\"privateDevices\":%s,\"privateDevicesNote\":%s,\"landlockAbi\":%d,"
             "\"unixScoped\":%s,\"netns\":\"%s\",\"precopy\":{\"core\":{\"pages\":%zu,"
             "\"runs\":%zu,\"probeMs\":%.0f},\"data\":{\"pages\":%zu,\"runs\":%zu,"
             "\"probeMs\":%.0f},\"bytes\":%zu}}",
             info, baseline_data / 1024, collapsed / 1024, tid_cache ? "true" : "false",
             private_devices ? "true" : "false", note, landlock_abi,
             spec.scope_unix ? "true" : "false", "per-jail",
             pcs[PC_CORE].pages, pcs[PC_CORE].runs, pcs[PC_CORE].probe_ms, pcs[PC_DATA].pages,
             pcs[PC_DATA].runs, pcs[PC_DATA].probe_ms, pc_plan_bytes(PC_DATA));
    reply(&m, NULL, 0);

    for (;;) {
        int cg_fds[ZY_MAX_CG_FDS], ncg = 0;
        ssize_t n = zy_recv(CONTROL_FD, &m, cg_fds, ZY_MAX_CG_FDS, &ncg);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            return 0; /* the executor closed the control socket */
        if (n < 0 || m.type != ZY_SPAWN)
            die("malformed control message");
        spawn_child(&m, cg_fds, ncg);
        for (int i = 0; i < ncg; i++)
            close(cg_fds[i]);
    }
}
