/* worker.h - a helper thread with the lock and the two condition variables that it and
 * its caller share: the job pipelines of segment_write.c (analysis, compression) and
 * segment_merge.c (doc-store compression, block encoding) start and stop theirs here. */
#ifndef FMT_WORKER_H
#define FMT_WORKER_H

#include <pthread.h>

struct fmt_worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work; /* signalled when there is a job or the helper is to quit */
    pthread_cond_t done; /* signalled when a job is done (results, or room for more) */
};

/* Initialize W's lock and conditions and run FN(ARG) on a new thread. 0, or -1 when any
 * of it fails (nothing is then left to release). */
int fmt_worker_start(struct fmt_worker *w, void *(*fn)(void *), void *arg);
/* Set *QUIT under the lock, wake the helper, wait for it to return and destroy the lock
 * and conditions. The helper's loop must end once it sees *QUIT. */
void fmt_worker_stop(struct fmt_worker *w, int *quit);

#endif
