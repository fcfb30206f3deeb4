#ifndef FISH_TEAM_H
#define FISH_TEAM_H

/// A fixed team of threads for the many short parallel loops of one forward pass (about fifty per
/// image): the caller and `size - 1` helpers. A helper that finished a part spins for a short
/// while waiting for the next one, so a loop starts in well under a microsecond instead of paying
/// a thread wake-up, and sleeps once the team has been idle for longer.
typedef struct fish_team fish_team;

/// A part of a loop: `part` in `0..<parts`.
typedef void (*fish_team_task)(void *context, int part);

/// A team of `size` threads (the caller counts as one), or NULL if threads cannot be started.
fish_team *fish_team_create(int size);

/// Stops and joins the helpers. No loop may be running.
void fish_team_destroy(fish_team *team);

/// Runs `task(context, part)` for every part in `0..<parts` (at most the team's size), the caller
/// taking part 0, and returns when all are done. One loop at a time per team.
void fish_team_run(fish_team *team, int parts, fish_team_task task, void *context);

#endif
