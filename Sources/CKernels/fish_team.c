#include "fish_team.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/// How long an idle helper spins before it sleeps.
#define SPIN_NANOSECONDS 200000L

/// The chunks a part has not started: `front` (low 32 bits) to `back` (high 32 bits). Its owner
/// takes chunks from the front, a thread that ran out of its own from the back; one word, so one
/// compare-and-swap claims a chunk against both. A cache line of its own.
typedef struct {
    _Alignas(64) _Atomic uint64_t range;
} share;

struct fish_team {
    int size;
    pthread_t *helpers;
    share *shares;
    /// Bumped for every loop (and once more to stop); helpers wait for it to change.
    _Atomic long generation;
    _Atomic int pending;
    _Atomic int sleepers;
    _Atomic int stopping;
    int parts;
    fish_team_chunk_task task;
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

static uint64_t pack(uint32_t front, uint32_t back) { return (uint64_t)back << 32 | front; }

/// Claims the front (or, stealing, the back) chunk of `share`; -1 if none is left.
static int claim(share *share, int from_back) {
    uint64_t range = atomic_load_explicit(&share->range, memory_order_relaxed);
    for (;;) {
        const uint32_t front = (uint32_t)range, back = (uint32_t)(range >> 32);
        if (front >= back) return -1;
        const uint64_t claimed = from_back ? pack(front, back - 1) : pack(front + 1, back);
        if (atomic_compare_exchange_weak_explicit(&share->range, &range, claimed, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            return (int)(from_back ? back - 1 : front);
        }
    }
}

/// Part `part`'s own chunks front to back, then chunks taken from the back of whichever part has
/// the most left, until none is left. (The chunks' inputs were published with the generation;
/// their results are published by `pending`.)
static void work(fish_team *team, int part) {
    for (int chunk; (chunk = claim(&team->shares[part], 0)) >= 0;) team->task(team->context, chunk);
    for (;;) {
        int victim = -1;
        uint32_t most = 0;
        for (int other = 0; other < team->parts; other++) {
            const uint64_t range = atomic_load_explicit(&team->shares[other].range, memory_order_relaxed);
            const uint32_t front = (uint32_t)range, back = (uint32_t)(range >> 32);
            if (back > front && back - front > most) {
                most = back - front;
                victim = other;
            }
        }
        if (victim < 0) return;
        const int chunk = claim(&team->shares[victim], 1);
        if (chunk >= 0) team->task(team->context, chunk);
    }
}

static void *helper_main(void *argument) {
    helper_start start = *(helper_start *)argument;
    free(argument);
    fish_team *team = start.team;
    long seen = 0;
    for (;;) {
        seen = next_generation(team, seen);
        if (atomic_load_explicit(&team->stopping, memory_order_acquire)) return NULL;
        if (start.index < team->parts) work(team, start.index);
        atomic_fetch_sub_explicit(&team->pending, 1, memory_order_acq_rel);
    }
}

fish_team *fish_team_create(int size) {
    fish_team *team = calloc(1, sizeof *team);
    if (team == NULL) return NULL;
    team->size = size < 1 ? 1 : size;
    team->helpers = calloc((size_t)team->size, sizeof(pthread_t));
    team->shares = aligned_alloc(_Alignof(share), (size_t)team->size * sizeof(share));
    pthread_mutex_init(&team->lock, NULL);
    pthread_cond_init(&team->wake, NULL);
    if (team->helpers == NULL || team->shares == NULL) {
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
    free(team->shares);
    free(team);
}

void fish_team_run(fish_team *team, int parts, int chunks, fish_team_chunk_task task, void *context) {
    if (parts > team->size) parts = team->size;
    if (parts > chunks) parts = chunks;
    if (parts <= 1) {
        for (int chunk = 0; chunk < chunks; chunk++) task(context, chunk);
        return;
    }
    team->parts = parts;
    team->task = task;
    team->context = context;
    for (int part = 0; part < parts; part++) {
        const uint32_t front = (uint32_t)((long)chunks * part / parts);
        const uint32_t back = (uint32_t)((long)chunks * (part + 1) / parts);
        atomic_store_explicit(&team->shares[part].range, pack(front, back), memory_order_relaxed);
    }
    atomic_store_explicit(&team->pending, team->size - 1, memory_order_release);
    publish(team);
    work(team, 0);
    while (atomic_load_explicit(&team->pending, memory_order_acquire) > 0) relax();
}
