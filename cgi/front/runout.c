/* runout.c - an asynchronous execution's output, written to the store in batches (see runout.h). */
#include "runout.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hist.h"
#include "hist_run.h"
#include "sbuf.h"
#include "utf8.h"

struct runout {
    pthread_mutex_t mu; /* guards everything below but the thread's own handle */
    pthread_cond_t cv;  /* signalled when pieces come and at the end */
    pthread_t thread;
    hist *h; /* borrowed: the thread's alone until runout_stop */
    char id[HIST_RUN_ID_LEN + 1];
    sbuf data;                               /* the waiting pieces' bytes, back to back */
    hist_run_piece piece[RUNOUT_MAX_PIECES]; /* stream and length; .data set when written */
    size_t npieces;
    char held[2][4]; /* per stream, the start of a character its last piece cut */
    size_t nheld[2];
    size_t kept[2];       /* bytes taken of each stream so far (the cap) */
    bool truncated[2];    /* some of the stream was dropped */
    bool flags_waiting;   /* a truncated flag not yet written */
    double last_write_ms; /* monotonic; 0: never */
    bool done;            /* runout_stop: end without writing what waits */
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Whether what waits is to be written now (o->mu held). */
static bool due(const runout *o, double now)
{
    if (o->npieces == 0 && !o->flags_waiting)
        return false;
    return now - o->last_write_ms >= RUNOUT_FLUSH_MS ||
           o->data.len >= RUNOUT_FLUSH_BYTES || o->npieces == RUNOUT_MAX_PIECES;
}

/* Counts len more bytes of stream k, already appended to o->data, as the
 * last piece: the last piece grows when it is the same stream (o->mu
 * held, a free piece slot when it is not). */
static void count_piece(runout *o, int k, size_t len)
{
    hist_run_piece *last = o->npieces > 0 ? &o->piece[o->npieces - 1] : NULL;
    if (len == 0)
        return;
    if (last != NULL && last->is_stderr == (k == 1))
        last->len += len;
    else /* .data is set when the thread takes the batch (the buffer may move) */
        o->piece[o->npieces++] = (hist_run_piece){.is_stderr = k == 1, .len = len};
}

/* Appends stream k's held bytes and then len bytes at p, all but the start
 * of a character they may end with, which stays held (o->mu held, a free
 * piece slot).  On failure (memory) both are dropped: the result still has
 * them. */
static void add_bytes(runout *o, int k, const char *p, size_t len)
{
    /* The end of held + p: what utf8_complete_prefix looks at (4 bytes). */
    char tail[4 + 4];
    size_t nh = o->nheld[k], total = nh + len, tn = total < 4 ? total : 4;
    for (size_t i = 0; i < tn; i++) {
        size_t at = total - tn + i;
        tail[i] = at < nh ? o->held[k][at] : p[at - nh];
    }
    size_t cut = tn - utf8_complete_prefix(tail, tn);
    size_t keep = total - cut;
    size_t from_held = keep < nh ? keep : nh;
    bool held_in = sbuf_append(&o->data, o->held[k], from_held) == APP_OK;
    bool rest_in = held_in && sbuf_append(&o->data, p, keep - from_held) == APP_OK;
    count_piece(o, k, rest_in ? keep : held_in ? from_held : 0);
    if (!rest_in) {
        o->nheld[k] = 0;
        return;
    }
    memcpy(o->held[k], tail + tn - cut, cut);
    o->nheld[k] = cut;
}

bool runout_on_output(void *ctx, unsigned kind, const char *bytes, size_t n)
{
    runout *o = ctx;
    if (bytes == NULL || n == 0 || kind == XP_FRAME_STEP)
        return true; /* a heartbeat, or a step (the result holds them all): nothing to store */
    int k = kind == XP_FRAME_STDERR ? 1 : 0;
    pthread_mutex_lock(&o->mu);
    size_t room = RUNOUT_STREAM_CAP - o->kept[k];
    if (n > room)
        n = room;
    o->kept[k] += n;
    /* At the cap: what follows is dropped here, and the executor stops a
     * job whose stream passes it (so it may not even forward the rest). */
    if (o->kept[k] == RUNOUT_STREAM_CAP && !o->truncated[k]) {
        o->truncated[k] = true;
        o->flags_waiting = true;
    }
    /* Every piece slot taken (the streams alternated that often): wait
     * for the thread to take the batch. */
    while (o->npieces == RUNOUT_MAX_PIECES && n > 0) {
        pthread_cond_signal(&o->cv);
        pthread_cond_wait(&o->cv, &o->mu);
    }
    if (n > 0)
        add_bytes(o, k, bytes, n);
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
    return true;
}

/* Writes one taken batch with the thread's own handle. */
static void write_batch(runout *o, hist_run_piece *pieces, size_t n, const sbuf *data,
                        const bool truncated[2])
{
    char msg[APP_ERRMSG_LEN] = "";
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        pieces[i].data = data->data + off;
        off += pieces[i].len;
    }
    if (hist_run_output_add(o->h, o->id, pieces, n, truncated, msg, sizeof msg) != APP_OK)
        fprintf(stderr, "pysandbox executions: output of %s: %s\n", o->id, msg);
}

static void *writer(void *arg)
{
    runout *o = arg;
    hist_run_piece pieces[RUNOUT_MAX_PIECES];
    sbuf batch;
    sbuf_init(&batch, o->data.max);
    /* The thread's malloc arena now, while the process waits for work,
     * not on its first write. */
    free(malloc(1));
    pthread_mutex_lock(&o->mu);
    for (;;) {
        double now = now_ms();
        if (o->done)
            break; /* what waits goes with the run's end (runout_stop) */
        if (!due(o, now)) {
            if (o->npieces == 0 && !o->flags_waiting) {
                pthread_cond_wait(&o->cv, &o->mu);
            } else {
                double at = o->last_write_ms + RUNOUT_FLUSH_MS;
                struct timespec ts = {(time_t)(at / 1000), 0};
                ts.tv_nsec = (long)((at - (double)ts.tv_sec * 1000) * 1e6);
                pthread_cond_timedwait(&o->cv, &o->mu, &ts);
            }
            continue;
        }
        /* Take the batch; write it without the lock, so output keeps coming. */
        size_t n = o->npieces;
        memcpy(pieces, o->piece, n * sizeof pieces[0]);
        bool truncated[2] = {o->truncated[0], o->truncated[1]};
        sbuf spare = batch;
        batch = o->data;
        o->data = spare;
        sbuf_reset(&o->data);
        o->npieces = 0;
        o->flags_waiting = false;
        o->last_write_ms = now;
        pthread_cond_signal(&o->cv); /* a callback waiting for room */
        pthread_mutex_unlock(&o->mu);
        write_batch(o, pieces, n, &batch, truncated);
        pthread_mutex_lock(&o->mu);
    }
    pthread_mutex_unlock(&o->mu);
    sbuf_free(&batch);
    return NULL;
}

app_err runout_new(hist *h, runout **out, char *msg, size_t msglen)
{
    runout *o = calloc(1, sizeof *o);
    if (o == NULL)
        return APP_ENOMEM;
    o->h = h;
    /* Both streams' caps at most (each byte waits once). */
    sbuf_init(&o->data, 2 * RUNOUT_STREAM_CAP + 8);
    pthread_condattr_t ca;
    bool ok = pthread_condattr_init(&ca) == 0;
    /* Timed waits on the monotonic clock: a clock step must not stall them. */
    ok = ok && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
         pthread_cond_init(&o->cv, &ca) == 0;
    if (ok && pthread_mutex_init(&o->mu, NULL) != 0) {
        pthread_cond_destroy(&o->cv);
        ok = false;
    }
    int rc = ok ? pthread_create(&o->thread, NULL, writer, o) : EAGAIN;
    if (rc != 0) {
        snprintf(msg, msglen, "no thread to store the output: %s", strerror(rc));
        if (ok) {
            pthread_mutex_destroy(&o->mu);
            pthread_cond_destroy(&o->cv);
        }
        sbuf_free(&o->data);
        free(o);
        return APP_EIO;
    }
    *out = o;
    return APP_OK;
}

void runout_begin(runout *o, const char *id)
{
    pthread_mutex_lock(&o->mu);
    snprintf(o->id, sizeof o->id, "%s", id);
    pthread_mutex_unlock(&o->mu);
}

void runout_stop(runout *o, const hist_run_piece **pieces, size_t *n, bool truncated[2])
{
    *pieces = NULL;
    *n = 0;
    truncated[0] = truncated[1] = false;
    if (o == NULL)
        return;
    pthread_mutex_lock(&o->mu);
    o->done = true; /* a batch being written is written first */
    pthread_cond_signal(&o->cv);
    pthread_mutex_unlock(&o->mu);
    pthread_join(o->thread, NULL);
    /* The thread is gone: what is left is the caller's to store. */
    for (int k = 0; k < 2; k++) { /* characters the program never finished */
        bool extends = o->npieces > 0 && o->piece[o->npieces - 1].is_stderr == (k == 1);
        if (o->nheld[k] == 0 || (o->npieces == RUNOUT_MAX_PIECES && !extends))
            continue; /* no slot: the stored output lacks a cut character the result has */
        if (sbuf_append(&o->data, o->held[k], o->nheld[k]) == APP_OK)
            count_piece(o, k, o->nheld[k]);
        o->nheld[k] = 0;
    }
    size_t off = 0;
    for (size_t i = 0; i < o->npieces; i++) {
        o->piece[i].data = o->data.data + off;
        off += o->piece[i].len;
    }
    *pieces = o->piece;
    *n = o->npieces;
    truncated[0] = o->truncated[0];
    truncated[1] = o->truncated[1];
}

void runout_free(runout *o)
{
    if (o == NULL)
        return;
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->cv);
    sbuf_free(&o->data);
    free(o);
}
