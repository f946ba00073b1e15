/*
 * ring_io.c -- whole-buffer file reads and writes through io_uring.
 *
 * Large transfers are cut into chunks kept in flight together; a write
 * that must be durable is one linked chain (write -> write -> ... ->
 * fdatasync), so a single submit makes an append durable. A short
 * transfer breaks the chain (the kernel cancels the rest); the loop then
 * resubmits from where the data stopped.
 *
 * One ring per thread: the handler thread and the compactor each own one.
 */
#include <errno.h>
#include <liburing.h>
#include <string.h>
#include <sys/uio.h>

#include "vector_index.h"

#define CHUNK ((size_t)4 << 20)

int vx_ring_init(vx_ring *r)
{
    int rc = io_uring_queue_init(VX_RING_DEPTH, &r->ring, 0);
    r->ready = rc == 0;
    r->outstanding = 0;
    r->unsynced = 0;
    r->error = 0;
    return rc;
}

void vx_ring_exit(vx_ring *r)
{
    if (r->ready) io_uring_queue_exit(&r->ring);
    r->ready = 0;
}

static struct io_uring_sqe *next_sqe(vx_ring *r)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    if (!sqe) { /* the queue is sized for a whole round; flush and retry anyway */
        io_uring_submit(&r->ring);
        sqe = io_uring_get_sqe(&r->ring);
    }
    return sqe;
}

/* Submits `n` prepared entries and collects their results by user_data
 * (0..n-1) into res[]. 0, or -errno when submitting or waiting failed. */
static int run_round(vx_ring *r, unsigned n, int *res)
{
    int rc = io_uring_submit_and_wait(&r->ring, n);
    if (rc < 0) return rc;
    for (unsigned got = 0; got < n; got++) {
        struct io_uring_cqe *cqe;
        while ((rc = io_uring_wait_cqe(&r->ring, &cqe)) == -EINTR) {
        }
        if (rc < 0) return rc;
        uint64_t i = io_uring_cqe_get_data64(cqe);
        if (i < n) res[i] = cqe->res;
        io_uring_cqe_seen(&r->ring, cqe);
    }
    return 0;
}

int vx_ring_write(vx_ring *r, int fd, const void *buf, size_t len, uint64_t off, int sync)
{
    size_t done = 0;
    for (;;) {
        int res[VX_RING_DEPTH];
        size_t sizes[VX_RING_DEPTH];
        unsigned n = 0;
        size_t pos = done;
        struct io_uring_sqe *last = NULL;
        while (pos < len && n < VX_RING_DEPTH - 1) {
            size_t chunk = len - pos < CHUNK ? len - pos : CHUNK;
            struct io_uring_sqe *sqe = next_sqe(r);
            if (!sqe) return -EBUSY;
            io_uring_prep_write(sqe, fd, (const char *)buf + pos, (unsigned)chunk, off + pos);
            io_uring_sqe_set_flags(sqe, IOSQE_IO_LINK);
            io_uring_sqe_set_data64(sqe, n);
            sizes[n++] = chunk;
            pos += chunk;
            last = sqe;
        }
        int with_sync = sync && pos == len;
        if (with_sync) {
            struct io_uring_sqe *sqe = next_sqe(r);
            if (!sqe) return -EBUSY;
            io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
            io_uring_sqe_set_data64(sqe, n);
            sizes[n++] = 0;
        } else if (last) {
            io_uring_sqe_set_flags(last, 0); /* the chain ends here, not at the next submit */
        }
        if (n == 0) return 0;
        int rc = run_round(r, n, res);
        if (rc < 0) return rc;
        int complete = 1;
        for (unsigned i = 0; i < n && complete; i++) {
            if (sizes[i] == 0) { /* the fsync */
                if (res[i] < 0) return res[i];
                continue;
            }
            if (res[i] < 0) return res[i] == -ECANCELED ? -EIO : res[i];
            if (res[i] == 0) return -EIO; /* no progress: do not spin */
            done += (size_t)res[i];
            if ((size_t)res[i] < sizes[i]) complete = 0; /* short: the rest was cancelled */
        }
        if (complete && done == len && (with_sync || !sync)) return 0;
    }
}

int vx_ring_read(vx_ring *r, int fd, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        int res[VX_RING_DEPTH];
        size_t sizes[VX_RING_DEPTH];
        unsigned n = 0;
        for (size_t pos = done; pos < len && n < VX_RING_DEPTH; n++) {
            size_t chunk = len - pos < CHUNK ? len - pos : CHUNK;
            struct io_uring_sqe *sqe = next_sqe(r);
            if (!sqe) return -EBUSY;
            io_uring_prep_read(sqe, fd, (char *)buf + pos, (unsigned)chunk, off + pos);
            io_uring_sqe_set_data64(sqe, n);
            sizes[n] = chunk;
            pos += chunk;
        }
        int rc = run_round(r, n, res);
        if (rc < 0) return rc;
        for (unsigned i = 0; i < n; i++) {
            if (res[i] < 0) return res[i];
            if (res[i] == 0) return -ENODATA; /* the file ended early */
            done += (size_t)res[i];
            if ((size_t)res[i] < sizes[i]) break; /* read the rest again from here */
        }
    }
    return 0;
}

int vx_ring_fsync(vx_ring *r, int fd)
{
    struct io_uring_sqe *sqe = next_sqe(r);
    if (!sqe) return -EBUSY;
    io_uring_prep_fsync(sqe, fd, 0);
    io_uring_sqe_set_data64(sqe, 0);
    int res[1] = {0};
    int rc = run_round(r, 1, res);
    return rc < 0 ? rc : res[0];
}

/* ---- Writes in flight ----------------------------------------------------
 * vx_ring_submit_write queues a write and returns at once; the caller
 * goes on working while the kernel writes; vx_ring_submit_sync queues the
 * last write linked to an fdatasync, once every earlier write is in;
 * vx_ring_wait_all collects them. A write's user_data is its length, so a
 * short one is seen as an error (the caller rewrites synchronously).
 *
 * Why a link and not IOSQE_IO_DRAIN: after one drained request the kernel
 * sends every later request of the ring through its deferral path and a
 * worker thread (measured on 6.18: the write that follows a drain always
 * went to io-wq), while a write over written blocks can be issued inline. */

/* Collects one completion (waiting when `block`); 0 when none was there. */
static int reap_one(vx_ring *r, int block)
{
    struct io_uring_cqe *cqe;
    int rc = block ? io_uring_wait_cqe(&r->ring, &cqe) : io_uring_peek_cqe(&r->ring, &cqe);
    if (rc == -EAGAIN || rc == -EINTR) return 0;
    if (rc < 0) {
        if (!r->error) r->error = rc;
        return 0;
    }
    uint64_t expect = io_uring_cqe_get_data64(cqe);
    if (!r->error && (cqe->res < 0 || (uint64_t)cqe->res != expect))
        r->error = cqe->res < 0 ? cqe->res : -EIO; /* failed, or short */
    io_uring_cqe_seen(&r->ring, cqe);
    r->outstanding--;
    return 1;
}

/* Submits what was prepared: `n` entries, each with a completion. */
static int submit_entry(vx_ring *r, unsigned n)
{
    int rc = io_uring_submit(&r->ring);
    if (rc < 0) return rc;
    r->outstanding += n;
    while (reap_one(r, 0)) {
    }
    /* Keep the completions in flight below the completion ring's size. */
    while (r->outstanding >= VX_RING_DEPTH - 2 && reap_one(r, 1)) {
    }
    return 0;
}

/* Prepares writes of buf in CHUNKs, each flagged `flags`; the count. */
static int prep_writes(vx_ring *r, int fd, const void *buf, size_t len, uint64_t off,
                       unsigned flags, unsigned *n)
{
    for (size_t pos = 0; pos < len;) {
        size_t chunk = len - pos < CHUNK ? len - pos : CHUNK;
        struct io_uring_sqe *sqe = next_sqe(r);
        if (!sqe) return -EBUSY;
        io_uring_prep_write(sqe, fd, (const char *)buf + pos, (unsigned)chunk, off + pos);
        io_uring_sqe_set_flags(sqe, flags);
        io_uring_sqe_set_data64(sqe, chunk);
        (*n)++;
        pos += chunk;
    }
    return 0;
}

int vx_ring_submit_write(vx_ring *r, int fd, const void *buf, size_t len, uint64_t off)
{
    for (size_t pos = 0; pos < len; pos += CHUNK) {
        unsigned n = 0;
        size_t chunk = len - pos < CHUNK ? len - pos : CHUNK;
        int rc = prep_writes(r, fd, (const char *)buf + pos, chunk, off + pos, 0, &n);
        if (rc == 0) rc = submit_entry(r, n);
        if (rc < 0) return rc;
        r->unsynced++;
    }
    return 0;
}

/* The whole append is this one write: RWF_DSYNC makes it durable in the
 * kernel's own completion path (the file system syncs as soon as the
 * device write is done), with no fdatasync request to start afterwards
 * from this thread's task work and an io-wq worker. */
static int submit_dsync(vx_ring *r, int fd, const void *buf, size_t len, uint64_t off)
{
    struct io_uring_sqe *sqe = next_sqe(r);
    if (!sqe) return -EBUSY;
    io_uring_prep_write(sqe, fd, buf, (unsigned)len, off);
    sqe->rw_flags = RWF_DSYNC;
    io_uring_sqe_set_data64(sqe, len);
    return submit_entry(r, 1);
}

int vx_ring_submit_sync(vx_ring *r, int fd, const void *buf, size_t len, uint64_t off)
{
    /* An fdatasync does not wait for direct writes in flight: the earlier
     * ones must be in before it starts. */
    while (r->outstanding > 0 && reap_one(r, 1)) {
    }
    if (len > (size_t)(VX_RING_DEPTH - 3) * CHUNK) return -E2BIG;
    unsigned earlier = r->unsynced;
    r->unsynced = 0;
    if (earlier == 0 && len > 0 && len <= CHUNK) return submit_dsync(r, fd, buf, len, off);
    unsigned n = 0;
    int rc = prep_writes(r, fd, buf, len, off, IOSQE_IO_LINK, &n);
    if (rc < 0) return rc;
    struct io_uring_sqe *sqe = next_sqe(r);
    if (!sqe) return -EBUSY;
    io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
    io_uring_sqe_set_data64(sqe, 0);
    return submit_entry(r, n + 1);
}

int vx_ring_wait_all(vx_ring *r)
{
    while (r->outstanding > 0 && reap_one(r, 1)) {
    }
    int rc = r->error;
    r->error = 0;
    return r->outstanding ? (rc ? rc : -EIO) : rc;
}
