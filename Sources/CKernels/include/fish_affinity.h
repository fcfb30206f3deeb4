#ifndef FISH_AFFINITY_H
#define FISH_AFFINITY_H

/// Runs `body(context)` on the calling thread pinned to one CPU: the `index`-th (modulo their
/// count) of the CPUs it may run on, then restores the thread's CPUs. Returns non-zero, running
/// nothing, if the thread's CPUs cannot be read or set. For side-by-side measurements that must
/// not compare two cores of a VM running at different speeds.
int fish_run_pinned(int index, void (*body)(void *context), void *context);

#endif
