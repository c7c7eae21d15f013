/*
 * zygote.h - the control protocol between the executor and its zygote.
 *
 * The executor (supervisor) starts pysandbox-zygote with execve, a fixed
 * environment and fd 3 = one end of a SOCK_SEQPACKET socketpair.  Each
 * message is one zy_msg.  The zygote first sends ZY_READY (text: a JSON
 * object describing the interpreter); then for each ZY_SPAWN it clones one
 * jailed child and answers ZY_SPAWNED with the child's pid and, as
 * SCM_RIGHTS, the supervisor's ends of three descriptors in this order:
 * the child's channel (a stream socket), its stdout pipe and its stderr
 * pipe.  Children are created with CLONE_PARENT, so they are the
 * supervisor's children: it reaps them and gets their exit status.
 *
 * A child writes ZY_CHILD_READY ('R') on its channel once fully jailed, or
 * ZY_CHILD_FAILED ('E') followed by a message if jailing failed.
 */
#ifndef PYSANDBOX_ZYGOTE_H
#define PYSANDBOX_ZYGOTE_H

#include <stdint.h>

enum zy_type {
    ZY_READY = 1,   /* zygote -> executor: warmed up; text = JSON info */
    ZY_SPAWN = 2,   /* executor -> zygote: make a child for slot */
    ZY_SPAWNED = 3, /* zygote -> executor: pid (or err != 0 and text) + 3 fds */
    ZY_FATAL = 4,   /* zygote -> executor: cannot continue; text = why */
};

#define ZY_CHILD_READY 'R'
#define ZY_CHILD_FAILED 'E'
#define ZY_TEXT_MAX 4096

typedef struct zy_msg {
    uint32_t type;
    uint32_t slot;
    uint32_t outside_uid; /* ZY_SPAWN: the slot's outside uid and gid */
    uint32_t outside_gid;
    int32_t pid;          /* ZY_SPAWNED */
    int32_t err;          /* ZY_SPAWNED: 0, or an errno-style failure */
    char text[ZY_TEXT_MAX];
} zy_msg;

#endif
