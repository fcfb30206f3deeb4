#include "fish_team.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

/// How long an idle helper spins before it sleeps.
#define SPIN_NANOSECONDS 200000L

struct fish_team {
    int size;
    pthread_t *helpers;
    /// Bumped for every loop (and once more to stop); helpers wait for it to change.
    _Atomic long generation;
    _Atomic int pending;
    _Atomic int sleepers;
    _Atomic int stopping;
    int parts;
    fish_team_task task;
    void *context;
    pthread_mutex_t lock;
    pthread_cond_t wake;
};

typedef struct {
    fish_team *team;
    int index;
} helper_start;

static inline void relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

static long now_nanoseconds(void) {
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return time.tv_sec * 1000000000L + time.tv_nsec;
}

/// Waits until the generation differs from `seen`: spinning first, then asleep.
static long next_generation(fish_team *team, long seen) {
    const long deadline = now_nanoseconds() + SPIN_NANOSECONDS;
    for (unsigned spins = 1;; spins++) {
        const long generation = atomic_load_explicit(&team->generation, memory_order_acquire);
        if (generation != seen) return generation;
        relax();
        if (spins % 256 == 0 && now_nanoseconds() > deadline) break;
    }
    // Sequentially consistent with `publish`: either it sees this sleeper or this sees its generation.
    pthread_mutex_lock(&team->lock);
    atomic_fetch_add(&team->sleepers, 1);
    long generation;
    while ((generation = atomic_load(&team->generation)) == seen) {
        pthread_cond_wait(&team->wake, &team->lock);
    }
    atomic_fetch_sub(&team->sleepers, 1);
    pthread_mutex_unlock(&team->lock);
    return generation;
}

static void *helper_main(void *argument) {
    helper_start start = *(helper_start *)argument;
    free(argument);
    fish_team *team = start.team;
    long seen = 0;
    for (;;) {
        seen = next_generation(team, seen);
        if (atomic_load_explicit(&team->stopping, memory_order_acquire)) return NULL;
        if (start.index < team->parts) team->task(team->context, start.index);
        atomic_fetch_sub_explicit(&team->pending, 1, memory_order_acq_rel);
    }
}

fish_team *fish_team_create(int size) {
    fish_team *team = calloc(1, sizeof *team);
    if (team == NULL) return NULL;
    team->size = size < 1 ? 1 : size;
    team->helpers = calloc((size_t)team->size, sizeof(pthread_t));
    pthread_mutex_init(&team->lock, NULL);
    pthread_cond_init(&team->wake, NULL);
    if (team->helpers == NULL) {
        team->size = 1;
        fish_team_destroy(team);
        return NULL;
    }
    for (int index = 1; index < team->size; index++) {
        helper_start *start = malloc(sizeof *start);
        if (start != NULL) *start = (helper_start){team, index};
        if (start == NULL || pthread_create(&team->helpers[index], NULL, helper_main, start) != 0) {
            free(start);
            team->size = index;  // only the helpers already started are joined
            fish_team_destroy(team);
            return NULL;
        }
    }
    return team;
}

/// Publishes a new generation and wakes sleeping helpers.
static void publish(fish_team *team) {
    atomic_fetch_add(&team->generation, 1);
    if (atomic_load(&team->sleepers) > 0) {
        pthread_mutex_lock(&team->lock);
        pthread_cond_broadcast(&team->wake);
        pthread_mutex_unlock(&team->lock);
    }
}

void fish_team_destroy(fish_team *team) {
    if (team == NULL) return;
    atomic_store(&team->stopping, 1);
    pthread_mutex_lock(&team->lock);
    atomic_fetch_add(&team->generation, 1);
    pthread_cond_broadcast(&team->wake);
    pthread_mutex_unlock(&team->lock);
    for (int index = 1; index < team->size; index++) pthread_join(team->helpers[index], NULL);
    pthread_cond_destroy(&team->wake);
    pthread_mutex_destroy(&team->lock);
    free(team->helpers);
    free(team);
}

void fish_team_run(fish_team *team, int parts, fish_team_task task, void *context) {
    if (parts > team->size) parts = team->size;
    if (parts <= 1) {
        if (parts == 1) task(context, 0);
        return;
    }
    team->parts = parts;
    team->task = task;
    team->context = context;
    atomic_store_explicit(&team->pending, team->size - 1, memory_order_release);
    publish(team);
    task(context, 0);
    while (atomic_load_explicit(&team->pending, memory_order_acquire) > 0) relax();
}
