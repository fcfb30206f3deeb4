#define _GNU_SOURCE
#include "fish_affinity.h"

#include <pthread.h>
#include <sched.h>

int fish_run_pinned(int index, void (*body)(void *context), void *context) {
    cpu_set_t allowed, pinned;
    if (pthread_getaffinity_np(pthread_self(), sizeof allowed, &allowed) != 0) return 1;
    const int count = CPU_COUNT(&allowed);
    if (count == 0) return 1;
    int wanted = (index % count + count) % count, cpu = 0;
    for (;; cpu++) {
        if (CPU_ISSET(cpu, &allowed) && wanted-- == 0) break;
    }
    CPU_ZERO(&pinned);
    CPU_SET(cpu, &pinned);
    if (pthread_setaffinity_np(pthread_self(), sizeof pinned, &pinned) != 0) return 1;
    body(context);
    pthread_setaffinity_np(pthread_self(), sizeof allowed, &allowed);
    return 0;
}
