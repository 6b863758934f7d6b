/* Threads: pthread_create/join, a mutex, a condition variable, TLS. */
#include <pthread.h>
#include <stdio.h>

#define NTHREADS 4
#define ITERS 2000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int ready;
static __thread int tls_value;

static void *worker(void *arg)
{
    long id = (long)arg;
    tls_value = (int)id * 10;
    pthread_mutex_lock(&lock);
    while (!ready)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < ITERS; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return (void *)(long)(tls_value + 1);
}

int main(void)
{
    pthread_t th[NTHREADS];
    tls_value = -1;
    for (long i = 0; i < NTHREADS; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)i) != 0) {
            printf("pthread_create failed\n");
            return 1;
        }
    pthread_mutex_lock(&lock);
    ready = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    long sum = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        sum += (long)ret;
    }
    printf("counter=%ld (expected %d)\n", counter, NTHREADS * ITERS);
    printf("thread results sum=%ld, main tls=%d\n", sum, tls_value);
    return counter == NTHREADS * ITERS ? 0 : 1;
}
