/* worker.c - start and stop a helper thread with its lock and conditions (worker.h). */
#include "worker.h"

int fmt_worker_start(struct fmt_worker *w, void *(*fn)(void *), void *arg)
{
    if (pthread_mutex_init(&w->mu, NULL) != 0)
        return -1;
    if (pthread_cond_init(&w->work, NULL) != 0)
        goto fail_mu;
    if (pthread_cond_init(&w->done, NULL) != 0)
        goto fail_work;
    if (pthread_create(&w->thread, NULL, fn, arg) != 0)
        goto fail_done;
    return 0;
fail_done:
    pthread_cond_destroy(&w->done);
fail_work:
    pthread_cond_destroy(&w->work);
fail_mu:
    pthread_mutex_destroy(&w->mu);
    return -1;
}

void fmt_worker_stop(struct fmt_worker *w, int *quit)
{
    pthread_mutex_lock(&w->mu);
    *quit = 1;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->done);
    pthread_mutex_destroy(&w->mu);
}
