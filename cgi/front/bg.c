/* bg.c - running a task after the HTTP response, in a fresh process. */
#include "bg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>


extern char **environ;

bool bg_arg_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > BG_MAX_ARG)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return false;
    return true;
}

app_err bg_own_program(char *out, size_t len, char *msg, size_t msglen)
{
    ssize_t n = readlink("/proc/self/exe", out, len - 1);
    if (n <= 0) {
        snprintf(msg, msglen, "cannot find our own program: %s", strerror(errno));
        return APP_EIO;
    }
    out[n] = '\0';
    return APP_OK;
}

app_err bg_run_task(const char *name, const char *arg, char *msg, size_t msglen)
{
    if (!bg_arg_ok(name) || !bg_arg_ok(arg)) {
        snprintf(msg, msglen, "invalid background task name or argument");
        return APP_EFIELD;
    }
    char self[PATH_MAX];
    app_err err = bg_own_program(self, sizeof self, msg, msglen);
    if (err != APP_OK)
        return err;
    pid_t mid = fork();
    if (mid < 0) {
        snprintf(msg, msglen, "fork: %s", strerror(errno));
        return APP_EIO;
    }
    if (mid == 0) {
        setsid(); /* not in the worker's process group: its signals are not ours */
        pid_t task = fork();
        if (task != 0)
            _exit(task < 0 ? 1 : 0);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) != 0 || dup2(null, 1) != 1)
            _exit(1);
        if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
            for (int fd = 3; fd < 1024; fd++)
                close(fd);
        const char *argv[] = {"pysandbox-fcgi", "--task", name, arg, NULL};
        /* execve does not modify them; its prototype predates const. */
        execve(self, (char *const *)argv, environ);
        _exit(127);
    }
    int status;
    while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(msg, msglen, "the background task could not start");
        return APP_EIO;
    }
    return APP_OK;
}
