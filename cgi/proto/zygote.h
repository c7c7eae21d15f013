/*
 * zygote.h - the control protocol between the executor and its zygote.
 *
 * The executor (supervisor) starts pysandbox-zygote with execve, a fixed
 * environment and fd 3 = one end of a SOCK_SEQPACKET socketpair.  Each
 * message is one zy_msg.  The zygote first sends ZY_READY (text: a JSON
 * object describing the interpreter); then for each ZY_SPAWN, which comes
 * with the slot's cgroup.procs files open for writing (SCM_RIGHTS, at most
 * ZY_MAX_CG_FDS, possibly none), it clones one jailed child, moves it into
 * those cgroups and answers ZY_SPAWNED with the child's pid and, as
 * SCM_RIGHTS, the supervisor's ends of ZY_CHILD_FDS descriptors in this
 * order: the child's channel (a stream socket), its stdout pipe, its
 * stderr pipe and its init's status pipe (jail_init_report).  Children are
 * created with CLONE_PARENT, so they are the supervisor's children: it
 * reaps them and gets their exit status.
 *
 * A child writes ZY_CHILD_READY ('R') on its channel once fully jailed, or
 * ZY_CHILD_FAILED ('E') followed by a message if jailing failed.
 */
#ifndef PYSANDBOX_ZYGOTE_H
#define PYSANDBOX_ZYGOTE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum zy_type {
    ZY_READY = 1,   /* zygote -> executor: warmed up; text = JSON info */
    ZY_SPAWN = 2,   /* executor -> zygote: make a child for slot */
    ZY_SPAWNED = 3, /* zygote -> executor: pid (or err != 0 and text) + 3 fds */
    ZY_FATAL = 4,   /* zygote -> executor: cannot continue; text = why */
};

#define ZY_CHILD_READY 'R'
#define ZY_CHILD_FAILED 'E'
#define ZY_TEXT_MAX 4096
#define ZY_CHILD_FDS 4
/* Exit status of a child that finished its job but could not write the
 * result: the program closed or broke the channel (fd 3). */
#define ZY_EXIT_NO_CHANNEL 126
#define ZY_MAX_CG_FDS 4
/* The child copies the pre-copy plan (precopy.h) before it reports ready.
 * The supervisor asks for it while the machine has a CPU to spare, and not
 * under load, when the copy would only compete with running jobs. */
#define ZY_SPAWN_PRECOPY 1u

typedef struct zy_msg {
    uint32_t type;
    uint32_t slot;
    uint32_t outside_uid; /* ZY_SPAWN: the slot's outside uid and gid */
    uint32_t outside_gid;
    int32_t pid;          /* ZY_SPAWNED */
    int32_t err;          /* ZY_SPAWNED: 0, or an errno-style failure */
    uint32_t flags;       /* ZY_SPAWN (echoed in ZY_SPAWNED): ZY_SPAWN_* */
    char text[ZY_TEXT_MAX];
} zy_msg;

/*
 * Sends one message on the SOCK_SEQPACKET socket with nfds descriptors
 * (at most the larger of ZY_CHILD_FDS and ZY_MAX_CG_FDS) as SCM_RIGHTS.
 * Returns true when the whole message went; false with errno otherwise.
 * The caller still owns (and closes) its copies of fds.
 */
bool zy_send(int sock, const zy_msg *m, const int *fds, int nfds);

/*
 * Receives one message and up to max descriptors into fds (close-on-exec;
 * extra ones are closed).  Returns sizeof *m; 0 when the peer closed; -1
 * with errno (EPROTO: a message of the wrong size or truncated control
 * data, with no descriptor kept).  The caller owns the *nfds descriptors.
 */
ssize_t zy_recv(int sock, zy_msg *m, int *fds, int max, int *nfds);

#endif
