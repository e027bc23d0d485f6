/* remote.c — see remote.h. A mutex-guarded FIFO of tasks and a list of finished ones; a
 * PUSH/PULL pair over inproc wakes the owner when the finished list stops being empty. */
#include "remote.h"
#include "log.h"
#include <pthread.h>
#include <stdatomic.h>

typedef struct task {
    zs_remote_work_fn *work;
    zs_remote_done_fn *done;
    void *arg;
    struct task *next;
} task_t;

typedef struct {
    task_t *head, *tail;
} fifo_t;

struct zs_remote {
    pthread_mutex_t lock;
    pthread_cond_t wake;           /* a task was queued, or the pool stops */
    fifo_t todo, finished;
    bool stopping;
    size_t pending;                /* posted, not yet through zs_remote_finish */
    zsock_t *push, *pull;          /* push: used by pool threads under `lock` */
    pthread_t *threads;
    size_t nthreads;
};

static void fifo_add(fifo_t *f, task_t *t)
{
    t->next = NULL;
    if (f->tail)
        f->tail->next = t;
    else
        f->head = t;
    f->tail = t;
}

static task_t *fifo_take(fifo_t *f)
{
    task_t *t = f->head;
    if (t) {
        f->head = t->next;
        if (!f->head)
            f->tail = NULL;
    }
    return t;
}

static void *pool_thread(void *arg)
{
    zs_remote_t *self = arg;
    zs_bus_t *bus = zs_bus_new();
    pthread_mutex_lock(&self->lock);
    for (;;) {
        while (!self->stopping && !self->todo.head)
            pthread_cond_wait(&self->wake, &self->lock);
        if (self->stopping)
            break;
        task_t *t = fifo_take(&self->todo);
        pthread_mutex_unlock(&self->lock);
        if (bus)
            t->work(bus, t->arg);
        pthread_mutex_lock(&self->lock);
        bool was_empty = !self->finished.head;
        fifo_add(&self->finished, t);
        if (was_empty)
            zstr_send(self->push, "");
    }
    pthread_mutex_unlock(&self->lock);
    zs_bus_destroy(&bus);
    return NULL;
}

zs_remote_t *zs_remote_new(size_t threads)
{
    static atomic_uint serial;
    zs_remote_t *self = calloc(1, sizeof *self);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://zs-remote-%u", atomic_fetch_add(&serial, 1));
    self->pull = zsock_new_pull(endpoint);
    self->push = zsock_new_push(endpoint);
    self->threads = calloc(threads ? threads : 1, sizeof *self->threads);
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    if (!self->pull || !self->push) {
        zs_errorf("remote pool: cannot create its inproc sockets");
        zs_remote_destroy(&self);
        return NULL;
    }
    for (size_t i = 0; i < (threads ? threads : 1); i++) {
        if (pthread_create(&self->threads[i], NULL, pool_thread, self) != 0) {
            zs_errorf("remote pool: cannot start thread %zu", i);
            zs_remote_destroy(&self);
            return NULL;
        }
        self->nthreads++;
    }
    return self;
}

void zs_remote_destroy(zs_remote_t **self_p)
{
    zs_remote_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    self->stopping = true;
    pthread_cond_broadcast(&self->wake);
    pthread_mutex_unlock(&self->lock);
    for (size_t i = 0; i < self->nthreads; i++)
        pthread_join(self->threads[i], NULL);
    task_t *t;
    while ((t = fifo_take(&self->todo))) {
        t->done(NULL, t->arg, false);
        free(t);
    }
    while ((t = fifo_take(&self->finished))) {
        t->done(NULL, t->arg, true);
        free(t);
    }
    zsock_destroy(&self->push);
    zsock_destroy(&self->pull);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    free(self->threads);
    free(self);
    *self_p = NULL;
}

void zs_remote_post(zs_remote_t *self, zs_remote_work_fn *work, zs_remote_done_fn *done, void *arg)
{
    task_t *t = calloc(1, sizeof *t);
    t->work = work;
    t->done = done;
    t->arg = arg;
    pthread_mutex_lock(&self->lock);
    fifo_add(&self->todo, t);
    self->pending++;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
}

zsock_t *zs_remote_signal(zs_remote_t *self)
{
    return self->pull;
}

size_t zs_remote_finish(zs_remote_t *self, void *owner_arg)
{
    pthread_mutex_lock(&self->lock);
    /* Drain the wake-ups first: a task finishing after this point sends a new one. */
    while (zsock_events(self->pull) & ZMQ_POLLIN)
        zstr_free(&(char *){zstr_recv(self->pull)});
    fifo_t done = self->finished;
    self->finished.head = self->finished.tail = NULL;
    pthread_mutex_unlock(&self->lock);
    size_t n = 0;
    task_t *t;
    while ((t = fifo_take(&done))) {
        t->done(owner_arg, t->arg, true);
        free(t);
        n++;
    }
    pthread_mutex_lock(&self->lock);
    self->pending -= n;
    pthread_mutex_unlock(&self->lock);
    return n;
}

size_t zs_remote_pending(const zs_remote_t *self)
{
    return self->pending;   /* written only under the owner's calls: the owner's thread reads it */
}
