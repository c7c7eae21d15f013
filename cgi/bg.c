/* bg.c - running a task after the HTTP response. */
#include "bg.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

app_err bg_spawn(void (*fn)(void *arg), void *arg, char *msg, size_t msglen)
{
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
        signal(SIGPIPE, SIG_IGN);
        fn(arg);
        _exit(0);
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
