/* zygote.c - sending and receiving the executor<->zygote control messages. */
#include "zygote.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Room for the most descriptors either side sends in one message. */
#define ZY_MAX_FDS (ZY_CHILD_FDS > ZY_MAX_CG_FDS ? ZY_CHILD_FDS : ZY_MAX_CG_FDS)

bool zy_send(int sock, const zy_msg *m, const int *fds, int nfds)
{
    if (nfds < 0 || nfds > ZY_MAX_FDS) {
        errno = EINVAL;
        return false;
    }
    struct iovec iov = {(void *)m, sizeof *m};
    char cbuf[CMSG_SPACE(ZY_MAX_FDS * sizeof(int))];
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        memset(cbuf, 0, sizeof cbuf);
        mh.msg_control = cbuf;
        mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, (size_t)nfds * sizeof(int));
    }
    return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof *m;
}

ssize_t zy_recv(int sock, zy_msg *m, int *fds, int max, int *nfds)
{
    char cbuf[CMSG_SPACE(ZY_MAX_FDS * sizeof(int))];
    struct iovec iov = {m, sizeof *m};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = sizeof cbuf};
    *nfds = 0;
    ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    if (n < 0)
        return n;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
            if (*nfds < max)
                fds[(*nfds)++] = fd;
            else
                close(fd);
        }
    }
    if (mh.msg_flags & MSG_CTRUNC) {
        while (*nfds > 0)
            close(fds[--(*nfds)]);
        errno = EPROTO;
        return -1;
    }
    if (n > 0 && (size_t)n != sizeof *m) {
        while (*nfds > 0)
            close(fds[--(*nfds)]);
        errno = EPROTO;
        return -1;
    }
    return n;
}
