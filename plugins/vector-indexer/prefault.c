/*
 * prefault.c -- a background thread that faults the embedding matrix's
 * pages in ahead of the rows that /index will write.
 *
 * Why: the first write to a page of anonymous memory costs a page fault
 * and a zeroed page; under a hypervisor that hands memory back to the host
 * (virtio-balloon free page reporting), it also costs the host's fault,
 * and a 2 MB huge page then takes about 4 ms: more than the disk needs to
 * make a 1,000-vector request durable. Done by the handler, that time is
 * added to every request; done here, ahead of time, it uses idle time or
 * the other core, and the handler finds the pages present.
 *
 * How: MADV_POPULATE_WRITE (Linux 5.14) faults pages in without changing
 * their contents, so it may run while the handler writes rows in the same
 * pages. Only moving or unmapping the matrix must wait: the store holds
 * vx_prefault_lock around mremap/munmap, and the thread populates in
 * chunks under that lock. Where the kernel lacks MADV_POPULATE_WRITE the
 * thread stops and the handler faults pages in as before.
 *
 * Not here: growing the matrix (store.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "vector_index.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* One chunk: a huge page, so a grow waits at most one huge page's fault. */
#define CHUNK ((size_t)2 << 20)

struct vx_prefault {
    pthread_mutex_t mu;
    pthread_cond_t go, idle;
    pthread_t thread;
    int started, stopping, busy, failed;
    char *base;    /* the matrix, or NULL */
    size_t mapped; /* its bytes */
    size_t done;   /* bytes from base known to be populated */
    size_t want;   /* bytes from base to populate (at most mapped) */
};

static void *prefault_main(void *arg)
{
    vx_prefault *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stopping && (p->failed || !p->base || p->done >= p->want))
            pthread_cond_wait(&p->go, &p->mu);
        if (p->stopping) break;
        char *at = p->base + p->done;
        size_t len = p->want - p->done < CHUNK ? p->want - p->done : CHUNK;
        p->busy = 1; /* the mapping cannot move meanwhile: vx_prefault_lock waits */
        pthread_mutex_unlock(&p->mu);
        int rc = madvise(at, len, MADV_POPULATE_WRITE);
        int err = errno;
        pthread_mutex_lock(&p->mu);
        p->busy = 0;
        if (rc == 0)
            p->done += len;
        else if (err != EINTR && err != EAGAIN)
            p->failed = 1; /* no kernel support, or no memory: the handler faults pages itself */
        pthread_cond_broadcast(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

vx_prefault *vx_prefault_new(void)
{
    vx_prefault *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->idle, NULL);
    if (pthread_create(&p->thread, NULL, prefault_main, p) != 0) {
        vx_prefault_free(p);
        return NULL;
    }
    p->started = 1;
    return p;
}

void vx_prefault_free(vx_prefault *p)
{
    if (!p) return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->stopping = 1;
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
    }
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->idle);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void vx_prefault_lock(vx_prefault *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    while (p->busy)
        pthread_cond_wait(&p->idle, &p->mu);
}

void vx_prefault_unlock(vx_prefault *p, void *base, size_t mapped)
{
    if (!p) return;
    p->base = base;
    p->mapped = base ? mapped : 0;
    if (p->want > p->mapped) p->want = p->mapped;
    if (p->done > p->mapped) p->done = p->mapped;
    pthread_mutex_unlock(&p->mu);
}

void vx_prefault_ahead(vx_prefault *p, size_t upto)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    if (upto > p->mapped) upto = p->mapped;
    if (upto > p->want) p->want = upto;
    if (p->want > p->done && p->base && !p->failed) pthread_cond_signal(&p->go);
    pthread_mutex_unlock(&p->mu);
}
