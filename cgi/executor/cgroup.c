/* cgroup.c - per-slot control groups (v1 and v2). */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define CG_PATH_MAX 1024

/* v1 controllers we use; index order is used below. */
enum { V1_MEMORY, V1_PIDS, V1_CPUACCT, V1_COUNT };
static const char *const v1_names[V1_COUNT] = {"memory", "pids", "cpuacct"};

struct cg {
    cg_mode mode;
    unsigned nslots;
    /* v1: one base per controller (empty when that controller is missing);
     * v2: base[0] only. Each is "<mount><own cgroup>/<tag>-<pid>". */
    char base[V1_COUNT][CG_PATH_MAX];
    bool memsw;                   /* v1 memory.memsw.* exists (swap accounting) */
    uint64_t *oom_before;         /* From calloc(): oom_kill count at job start, per slot */
    /* v1, per slot: an eventfd the kernel signals on OOM, and the
     * memory.oom_control descriptor it is registered on; -1 when none. */
    int *oom_efd, *oom_ctl;
    /* Per slot: the control files in use, kept open (a path walk through
     * /sys/fs/cgroup for each of the ~20 reads and writes of a job cost
     * more than the rest of the supervisor's work), and the limits last
     * written, so a job with the same limits rewrites nothing. */
    struct cg_slot *slot;
    char describe[256];
};

/* A control file of a slot, opened once. */
#define CG_SLOT_FILES 16
typedef struct cg_file {
    int ctl;
    const char *name;
    int flags; /* O_RDONLY, O_WRONLY or O_RDWR */
    int fd;
} cg_file;

typedef struct cg_slot {
    cg_file files[CG_SLOT_FILES];
    unsigned nfiles;
    uint64_t memory_set; /* 0: never written */
    unsigned tasks_set;
    uint64_t cpu_before_ns; /* v2: the CPU counter at job start (it cannot be reset) */
} cg_slot;

static bool write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n;
    int saved = errno;
    close(fd);
    errno = saved;
    return ok;
}

static bool read_text(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return true;
}

/* The value of "key value" in a flat-keyed file's text (memory.events). */
static uint64_t parse_key(const char *text, const char *key)
{
    size_t klen = strlen(key);
    for (const char *line = text; line != NULL && *line != '\0';) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
            return strtoull(line + klen + 1, NULL, 10);
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return 0;
}

/* Finds the mount point and mount root of a cgroup hierarchy in
 * /proc/self/mountinfo: v2 when controller is NULL. */
static bool find_mount(const char *controller, char *mnt, char *mroot)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f == NULL)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        char root[CG_PATH_MAX], point[CG_PATH_MAX];
        if (sscanf(line, "%*s %*s %*s %1023s %1023s", root, point) != 2)
            continue;
        char *sep = strstr(line, " - ");
        if (sep == NULL)
            continue;
        char fstype[64], source[256], opts[1024];
        if (sscanf(sep + 3, "%63s %255s %1023s", fstype, source, opts) != 3)
            continue;
        if (controller == NULL) {
            found = strcmp(fstype, "cgroup2") == 0;
        } else if (strcmp(fstype, "cgroup") == 0) {
            char *save = NULL;
            for (char *o = strtok_r(opts, ",", &save); o != NULL; o = strtok_r(NULL, ",", &save))
                if (strcmp(o, controller) == 0)
                    found = true;
        }
        if (found) {
            snprintf(mnt, CG_PATH_MAX, "%s", point);
            snprintf(mroot, CG_PATH_MAX, "%s", root);
        }
    }
    fclose(f);
    return found;
}

/* Our own cgroup path in a hierarchy, from /proc/self/cgroup. */
static bool own_path(const char *controller, char *out)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (f == NULL)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL)
            continue;
        *c2 = '\0';
        const char *list = c1 + 1;
        if (controller == NULL) {
            found = strcmp(line, "0") == 0 && list[0] == '\0';
        } else {
            char copy[256];
            snprintf(copy, sizeof copy, "%s", list);
            char *save = NULL;
            for (char *o = strtok_r(copy, ",", &save); o != NULL; o = strtok_r(NULL, ",", &save))
                if (strcmp(o, controller) == 0)
                    found = true;
        }
        if (found)
            snprintf(out, CG_PATH_MAX, "%s", c2 + 1);
    }
    fclose(f);
    return found;
}

/* "<mount>/<own path minus mount root>/<tag>-<pid>" */
static bool base_path(const char *controller, const char *tag, char *out)
{
    char mnt[CG_PATH_MAX], mroot[CG_PATH_MAX], own[CG_PATH_MAX];
    if (!find_mount(controller, mnt, mroot) || !own_path(controller, own))
        return false;
    const char *rel = own;
    size_t rlen = strlen(mroot);
    if (strcmp(mroot, "/") != 0 && strncmp(own, mroot, rlen) == 0)
        rel = own + rlen;
    if (strcmp(rel, "/") == 0)
        rel = "";
    int n = snprintf(out, CG_PATH_MAX, "%s%s/%s-%d", mnt, rel, tag, (int)getpid());
    return n > 0 && n < CG_PATH_MAX;
}

static bool slot_dir(const cg *c, int ctl, unsigned slot, char *out, const char *file)
{
    int n = snprintf(out, CG_PATH_MAX, "%s/slot-%u%s%s", c->base[ctl], slot, file ? "/" : "",
                     file ? file : "");
    return n > 0 && n < CG_PATH_MAX;
}

static bool make_slots(cg *c, int ctl)
{
    if (mkdir(c->base[ctl], 0755) != 0 && errno != EEXIST)
        return false;
    for (unsigned s = 0; s < c->nslots; s++) {
        char dir[CG_PATH_MAX];
        if (!slot_dir(c, ctl, s, dir, NULL) || (mkdir(dir, 0755) != 0 && errno != EEXIST))
            return false;
    }
    return true;
}

static void remove_slots(cg *c, int ctl)
{
    if (c->base[ctl][0] == '\0')
        return;
    for (unsigned s = 0; s < c->nslots; s++) {
        char dir[CG_PATH_MAX];
        if (slot_dir(c, ctl, s, dir, NULL))
            rmdir(dir);
    }
    rmdir(c->base[ctl]);
}

static bool open_v1(cg *c, const char *tag, char *why, size_t whylen)
{
    for (int i = 0; i < V1_COUNT; i++) {
        if (!base_path(v1_names[i], tag, c->base[i]))
            c->base[i][0] = '\0';
        else if (!make_slots(c, i)) {
            snprintf(why, whylen, "cgroup v1 %s: cannot create %s: %s", v1_names[i], c->base[i],
                     strerror(errno));
            remove_slots(c, i);
            c->base[i][0] = '\0';
        }
    }
    if (c->base[V1_MEMORY][0] == '\0' && c->base[V1_PIDS][0] == '\0')
        return false;
    char probe[CG_PATH_MAX];
    c->memsw = c->base[V1_MEMORY][0] != '\0' &&
               slot_dir(c, V1_MEMORY, 0, probe, "memory.memsw.limit_in_bytes") &&
               access(probe, W_OK) == 0;
    int n = snprintf(c->describe, sizeof c->describe, "{\"version\":\"v1\",\"controllers\":[");
    bool first = true;
    for (int i = 0; i < V1_COUNT; i++) {
        if (c->base[i][0] == '\0')
            continue;
        n += snprintf(c->describe + n, sizeof c->describe - (size_t)n, "%s\"%s\"", first ? "" : ",",
                      v1_names[i]);
        first = false;
    }
    snprintf(c->describe + n, sizeof c->describe - (size_t)n, "],\"swapAccounting\":%s}",
             c->memsw ? "true" : "false");
    return true;
}

/* cgroup v1 has no memory.oom.group: the OOM killer may kill one process of
 * a jail and let the rest run on.  An eventfd registered on each slot's
 * memory.oom_control lets the supervisor end the whole jail instead. */
static void v1_watch_oom(cg *c)
{
    for (unsigned s = 0; s < c->nslots; s++) {
        char path[CG_PATH_MAX], line[64];
        if (!slot_dir(c, V1_MEMORY, s, path, "memory.oom_control"))
            continue;
        int ctl = open(path, O_RDONLY | O_CLOEXEC);
        int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        snprintf(line, sizeof line, "%d %d", efd, ctl);
        if (ctl >= 0 && efd >= 0 && slot_dir(c, V1_MEMORY, s, path, "cgroup.event_control") &&
            write_text(path, line)) {
            c->oom_efd[s] = efd;
            c->oom_ctl[s] = ctl;
            continue;
        }
        if (ctl >= 0)
            close(ctl);
        if (efd >= 0)
            close(efd);
    }
}

static bool open_v2(cg *c, const char *tag, char *why, size_t whylen)
{
    char *base = c->base[0];
    if (!base_path(NULL, tag, base))
        return false;
    char ctl[CG_PATH_MAX + 32], parent[CG_PATH_MAX];
    snprintf(parent, sizeof parent, "%s", base);
    *strrchr(parent, '/') = '\0';
    snprintf(ctl, sizeof ctl, "%s/cgroup.controllers", parent);
    char avail[256];
    if (!read_text(ctl, avail, sizeof avail) || strstr(avail, "memory") == NULL ||
        strstr(avail, "pids") == NULL) {
        snprintf(why, whylen, "cgroup v2: memory and pids controllers are not delegated to %s",
                 parent);
        return false;
    }
    /* Children of our cgroup can only use controllers our cgroup enables,
     * which the kernel refuses while our cgroup itself holds processes
     * (unless it is the root): that needs a delegated, empty subtree. */
    snprintf(ctl, sizeof ctl, "%s/cgroup.subtree_control", parent);
    if (!write_text(ctl, "+memory +pids")) {
        snprintf(why, whylen,
                 "cgroup v2: cannot enable memory and pids below %s (%s); start the service in "
                 "an empty delegated cgroup (e.g. systemd Delegate=yes)",
                 parent, strerror(errno));
        return false;
    }
    if (mkdir(base, 0755) != 0 && errno != EEXIST)
        return false;
    snprintf(ctl, sizeof ctl, "%s/cgroup.subtree_control", base);
    if (!write_text(ctl, "+memory +pids") || !make_slots(c, 0)) {
        snprintf(why, whylen, "cgroup v2: cannot set up %s: %s", base, strerror(errno));
        remove_slots(c, 0);
        return false;
    }
    snprintf(c->describe, sizeof c->describe,
             "{\"version\":\"v2\",\"controllers\":[\"memory\",\"pids\"],\"swapAccounting\":true}");
    return true;
}

app_err cg_open(const char *tag, unsigned nslots, cg **out, char *why, size_t whylen)
{
    cg *c = calloc(1, sizeof *c);
    if (c == NULL)
        return APP_ENOMEM;
    c->oom_before = calloc(nslots, sizeof *c->oom_before);
    c->oom_efd = malloc(nslots * sizeof *c->oom_efd);
    c->oom_ctl = malloc(nslots * sizeof *c->oom_ctl);
    c->slot = calloc(nslots, sizeof *c->slot);
    if (c->oom_before == NULL || c->oom_efd == NULL || c->oom_ctl == NULL || c->slot == NULL) {
        free(c->oom_before);
        free(c->oom_efd);
        free(c->oom_ctl);
        free(c->slot);
        free(c);
        return APP_ENOMEM;
    }
    for (unsigned s = 0; s < nslots; s++)
        c->oom_efd[s] = c->oom_ctl[s] = -1;
    c->nslots = nslots;
    why[0] = '\0';
    char mnt[CG_PATH_MAX], mroot[CG_PATH_MAX];
    if (find_mount("memory", mnt, mroot) || find_mount("pids", mnt, mroot)) {
        if (open_v1(c, tag, why, whylen)) {
            c->mode = CG_V1;
            if (c->base[V1_MEMORY][0] != '\0')
                v1_watch_oom(c);
        }
    } else if (find_mount(NULL, mnt, mroot)) {
        if (open_v2(c, tag, why, whylen))
            c->mode = CG_V2;
    } else {
        snprintf(why, whylen, "no cgroup filesystem is mounted");
    }
    if (c->mode == CG_NONE) {
        memset(c->base, 0, sizeof c->base);
        if (why[0] == '\0')
            snprintf(why, whylen, "no usable cgroup hierarchy");
        snprintf(c->describe, sizeof c->describe, "{\"version\":\"none\",\"controllers\":[]}");
    }
    *out = c;
    return APP_OK;
}

void cg_free(cg *c)
{
    if (c == NULL)
        return;
    for (unsigned s = 0; s < c->nslots; s++) {
        if (c->oom_efd[s] >= 0)
            close(c->oom_efd[s]);
        if (c->oom_ctl[s] >= 0)
            close(c->oom_ctl[s]);
        for (unsigned i = 0; i < c->slot[s].nfiles; i++)
            close(c->slot[s].files[i].fd);
    }
    for (int i = 0; i < V1_COUNT; i++)
        remove_slots(c, i);
    free(c->oom_before);
    free(c->oom_efd);
    free(c->oom_ctl);
    free(c->slot);
    free(c);
}

cg_mode cg_mode_of(const cg *c)
{
    return c->mode;
}

int cg_oom_fd(const cg *c, unsigned slot)
{
    return c->mode == CG_V1 && slot < c->nslots ? c->oom_efd[slot] : -1;
}

const char *cg_describe_json(const cg *c)
{
    return c->describe;
}

/* The slot's descriptor for file (opened with flags), or -1 with errno. */
static int slot_fd(cg *c, int ctl, unsigned slot, const char *file, int flags)
{
    cg_slot *sl = &c->slot[slot];
    for (unsigned i = 0; i < sl->nfiles; i++)
        if (sl->files[i].ctl == ctl && sl->files[i].flags == flags &&
            strcmp(sl->files[i].name, file) == 0)
            return sl->files[i].fd;
    char path[CG_PATH_MAX];
    if (!slot_dir(c, ctl, slot, path, file)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0 || sl->nfiles == CG_SLOT_FILES)
        return fd; /* (a full table only means no caching: closed by the caller) */
    sl->files[sl->nfiles++] = (cg_file){ctl, file, flags, fd};
    return fd;
}

/* Whether fd is one of the slot's cached descriptors. */
static bool slot_cached(const cg *c, unsigned slot, int fd)
{
    for (unsigned i = 0; i < c->slot[slot].nfiles; i++)
        if (c->slot[slot].files[i].fd == fd)
            return true;
    return false;
}

static bool slot_write(cg *c, int ctl, unsigned slot, const char *file, const char *value)
{
    int fd = slot_fd(c, ctl, slot, file, O_WRONLY);
    if (fd < 0)
        return false;
    size_t n = strlen(value);
    bool ok = pwrite(fd, value, n, 0) == (ssize_t)n;
    int saved = errno;
    if (!slot_cached(c, slot, fd))
        close(fd);
    errno = saved;
    return ok;
}

/* Reads the whole (small) file into buf; false on error. */
static bool slot_read(cg *c, int ctl, unsigned slot, const char *file, char *buf, size_t len)
{
    int fd = slot_fd(c, ctl, slot, file, O_RDONLY);
    if (fd < 0)
        return false;
    ssize_t n = pread(fd, buf, len - 1, 0);
    if (!slot_cached(c, slot, fd))
        close(fd);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return true;
}

static uint64_t slot_read_u64(cg *c, int ctl, unsigned slot, const char *file)
{
    char buf[64];
    return slot_read(c, ctl, slot, file, buf, sizeof buf) ? strtoull(buf, NULL, 10) : 0;
}

static uint64_t slot_read_key(cg *c, int ctl, unsigned slot, const char *file, const char *key)
{
    char buf[4096];
    return slot_read(c, ctl, slot, file, buf, sizeof buf) ? parse_key(buf, key) : 0;
}

app_err cg_limit_slot(cg *c, unsigned slot, uint64_t memory_bytes, unsigned max_tasks, char *err,
                      size_t errlen)
{
    char mem[32], tasks[32];
    snprintf(mem, sizeof mem, "%" PRIu64, memory_bytes);
    snprintf(tasks, sizeof tasks, "%u", max_tasks);
    if (slot >= c->nslots)
        return APP_EINTERNAL;
    bool ok = true;
    cg_slot *sl = &c->slot[slot];
    bool same_memory = sl->memory_set == memory_bytes, same_tasks = sl->tasks_set == max_tasks;
    sl->memory_set = sl->tasks_set = 0; /* unknown until every write below succeeds */
    if (c->mode == CG_V1) {
        if (c->base[V1_MEMORY][0] != '\0') {
            if (!same_memory) {
                /* memsw must stay >= memory: lift it, set memory, then pin it. */
                if (c->memsw)
                    ok = slot_write(c, V1_MEMORY, slot, "memory.memsw.limit_in_bytes", "-1");
                ok = ok && slot_write(c, V1_MEMORY, slot, "memory.limit_in_bytes", mem);
                if (c->memsw)
                    ok = ok && slot_write(c, V1_MEMORY, slot, "memory.memsw.limit_in_bytes", mem);
                else
                    ok = ok && slot_write(c, V1_MEMORY, slot, "memory.swappiness", "0");
            }
            ok = ok && slot_write(c, V1_MEMORY, slot, "memory.max_usage_in_bytes", "0");
            c->oom_before[slot] = slot_read_key(c, V1_MEMORY, slot, "memory.oom_control", "oom_kill");
        }
        if (ok && !same_tasks && c->base[V1_PIDS][0] != '\0')
            ok = slot_write(c, V1_PIDS, slot, "pids.max", tasks);
        if (ok && c->base[V1_CPUACCT][0] != '\0')
            ok = slot_write(c, V1_CPUACCT, slot, "cpuacct.usage", "0");
    } else if (c->mode == CG_V2) {
        if (!same_memory)
            ok = slot_write(c, 0, slot, "memory.max", mem) &&
                 slot_write(c, 0, slot, "memory.swap.max", "0");
        if (ok && !same_tasks)
            ok = slot_write(c, 0, slot, "pids.max", tasks);
        /* memory.oom.group: the whole jail dies together, like a cgroup v1 jail's PID 1. */
        if (ok && !same_memory)
            slot_write(c, 0, slot, "memory.oom.group", "1");
        c->oom_before[slot] = slot_read_key(c, 0, slot, "memory.events", "oom_kill");
        sl->cpu_before_ns = slot_read_key(c, 0, slot, "cpu.stat", "usage_usec") * 1000u;
    }
    if (ok) {
        sl->memory_set = memory_bytes;
        sl->tasks_set = max_tasks;
    }
    if (!ok) {
        snprintf(err, errlen, "cgroup: setting limits of slot %u failed: %s", slot,
                 strerror(errno));
        return APP_EJAIL;
    }
    return APP_OK;
}

int cg_procs_fds(cg *c, unsigned slot, int *fds, int max, char *err, size_t errlen)
{
    int n = c->mode == CG_V1 ? V1_COUNT : c->mode == CG_V2 ? 1 : 0;
    int count = 0;
    for (int i = 0; i < n && slot < c->nslots; i++) {
        if (c->base[i][0] == '\0')
            continue;
        int fd = count < max ? slot_fd(c, i, slot, "cgroup.procs", O_WRONLY) : -1;
        if (fd < 0 || !slot_cached(c, slot, fd)) {
            if (fd >= 0)
                close(fd);
            snprintf(err, errlen, "cgroup: opening slot %u's cgroup.procs failed: %s", slot,
                     count < max ? strerror(errno) : "too many controllers");
            return -1;
        }
        fds[count++] = fd;
    }
    return count;
}

bool cg_measures_cpu(const cg *c)
{
    return c->mode == CG_V2 || (c->mode == CG_V1 && c->base[V1_CPUACCT][0] != '\0');
}

uint64_t cg_cpu_ns(cg *c, unsigned slot)
{
    if (slot >= c->nslots)
        return 0;
    if (c->mode == CG_V1)
        return c->base[V1_CPUACCT][0] != '\0' ? slot_read_u64(c, V1_CPUACCT, slot, "cpuacct.usage")
                                              : 0;
    if (c->mode == CG_V2) {
        uint64_t now = slot_read_key(c, 0, slot, "cpu.stat", "usage_usec") * 1000u;
        return now > c->slot[slot].cpu_before_ns ? now - c->slot[slot].cpu_before_ns : 0;
    }
    return 0;
}

void cg_read_usage(cg *c, unsigned slot, cg_usage *u)
{
    memset(u, 0, sizeof *u);
    if (slot >= c->nslots)
        return;
    u->cpu_ns = cg_cpu_ns(c, slot);
    if (c->mode == CG_V1) {
        if (c->base[V1_MEMORY][0] != '\0') {
            u->peak_bytes = slot_read_u64(c, V1_MEMORY, slot, "memory.max_usage_in_bytes");
            u->oom_killed = slot_read_key(c, V1_MEMORY, slot, "memory.oom_control", "oom_kill") >
                            c->oom_before[slot];
        }
    } else if (c->mode == CG_V2) {
        u->peak_bytes = slot_read_u64(c, 0, slot, "memory.peak");
        u->oom_killed = slot_read_key(c, 0, slot, "memory.events", "oom_kill") > c->oom_before[slot];
    }
}
