/*
 * pool.c -- the indexer's helper threads: a job is split into many small
 * tasks that the caller and the helpers claim from one counter.
 *
 * Why claimed tasks rather than one share per thread: a helper the kernel
 * schedules late (a busy machine, or OpenBLAS's threads still yielding
 * after an sgemm) then takes fewer tasks instead of holding the caller up;
 * the caller only ever waits for tasks already running. Helpers sleep on a
 * condition variable between jobs, so they never spin against OpenBLAS.
 *
 * Tickets carry the job's generation in their high 32 bits, so a helper
 * that wakes up late for an old job cannot claim a task of the next one.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "vector_index.h"

#define MAX_HELPERS 63

typedef struct helper {
    vx_pool *pool;
    int index; /* worker number: 1.. (the caller is 0) */
    pthread_t thread;
} helper;

struct vx_pool {
    pthread_mutex_t mu;
    pthread_cond_t go, idle;
    uint32_t generation;
    int stopping;
    /* the current job, written under mu before the generation is bumped */
    vx_task_fn fn;
    void *ctx;
    size_t n_tasks;
    int workers;               /* helpers with index < workers take part */
    _Atomic uint64_t ticket;   /* generation << 32 | next task */
    _Atomic uint64_t finished; /* generation << 32 | tasks done */
    helper helpers[MAX_HELPERS];
    int n_helpers;
};

vx_pool *vx_pool_new(void)
{
    vx_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->idle, NULL);
    return p;
}

void vx_pool_free(vx_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_helpers; i++)
        pthread_join(p->helpers[i].thread, NULL);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->idle);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* The next task of job `gen`, or -1 when none is left (or the job is over). */
static long claim(vx_pool *p, uint32_t gen, size_t n)
{
    uint64_t t = atomic_load(&p->ticket);
    for (;;) {
        if ((uint32_t)(t >> 32) != gen || (t & 0xffffffffu) >= n) return -1;
        if (atomic_compare_exchange_weak(&p->ticket, &t, t + 1)) return (long)(t & 0xffffffffu);
    }
}

/* Counts a finished task of job `gen`; wakes the caller after the last. */
static void task_done(vx_pool *p, uint32_t gen, size_t n)
{
    uint64_t done = atomic_fetch_add(&p->finished, 1) + 1;
    if ((uint32_t)(done >> 32) != gen || (done & 0xffffffffu) != n) return;
    pthread_mutex_lock(&p->mu);
    pthread_cond_signal(&p->idle);
    pthread_mutex_unlock(&p->mu);
}

static void *helper_main(void *arg)
{
    helper *h = arg;
    vx_pool *p = h->pool;
    uint32_t seen = 0;
    pthread_mutex_lock(&p->mu);
    seen = p->generation; /* jobs before this helper existed are not its own */
    for (;;) {
        while (p->generation == seen && !p->stopping)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->stopping) break;
        seen = p->generation;
        vx_task_fn fn = p->fn;
        void *ctx = p->ctx;
        size_t n = p->n_tasks;
        int takes_part = h->index < p->workers;
        pthread_mutex_unlock(&p->mu);
        for (long i; takes_part && (i = claim(p, seen, n)) >= 0;) {
            fn(ctx, (size_t)i, h->index);
            task_done(p, seen, n);
        }
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Starts helpers until `want` exist (fewer if threads cannot be created). */
static void grow(vx_pool *p, int want)
{
    if (want > MAX_HELPERS) want = MAX_HELPERS;
    while (p->n_helpers < want) {
        helper *h = &p->helpers[p->n_helpers];
        *h = (helper){.pool = p, .index = p->n_helpers + 1};
        if (pthread_create(&h->thread, NULL, helper_main, h) != 0) break;
        p->n_helpers++;
    }
}

int vx_pool_run(vx_pool *p, int threads, size_t n_tasks, vx_task_fn fn, void *ctx)
{
    if (!p || threads <= 1 || n_tasks <= 1) {
        for (size_t i = 0; i < n_tasks; i++)
            fn(ctx, i, 0);
        return 1;
    }
    grow(p, threads - 1);
    int workers = 1 + (p->n_helpers < threads - 1 ? p->n_helpers : threads - 1);
    pthread_mutex_lock(&p->mu);
    uint32_t gen = ++p->generation;
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    p->workers = workers;
    atomic_store(&p->ticket, (uint64_t)gen << 32);
    atomic_store(&p->finished, (uint64_t)gen << 32);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (long i; (i = claim(p, gen, n_tasks)) >= 0;) {
        fn(ctx, (size_t)i, 0);
        task_done(p, gen, n_tasks);
    }
    pthread_mutex_lock(&p->mu);
    while ((atomic_load(&p->finished) & 0xffffffffu) < n_tasks)
        pthread_cond_wait(&p->idle, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return workers;
}
