#ifndef FISH_TEAM_H
#define FISH_TEAM_H

/// A fixed team of threads for the many short parallel loops of one forward pass (about fifty per
/// image): the caller and `size - 1` helpers. A helper that finished a part spins for a short
/// while waiting for the next one, so a loop starts in well under a microsecond instead of paying
/// a thread wake-up, and sleeps once the team has been idle for longer.
typedef struct fish_team fish_team;

/// One chunk of a loop: `chunk` in `0..<chunks`.
typedef void (*fish_team_chunk_task)(void *context, int chunk);

/// A team of `size` threads (the caller counts as one), or NULL if threads cannot be started.
fish_team *fish_team_create(int size);

/// Stops and joins the helpers. No loop may be running.
void fish_team_destroy(fish_team *team);

/// Runs `task(context, chunk)` for every chunk in `0..<chunks` on `parts` threads (at most the
/// team's size), the caller included, and returns when all are done. Each thread starts on its
/// own contiguous share of the chunks, in order; one that finishes early takes the remaining
/// chunks from the far end of the largest share left, so a thread slowed down (a busy core, a late
/// wake-up) holds the loop up by at most about a chunk. One loop at a time per team.
void fish_team_run(fish_team *team, int parts, int chunks, fish_team_chunk_task task, void *context);

#endif
