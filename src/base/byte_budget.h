/* byte_budget.h — a count of bytes held against a limit, shared by threads.
 *
 * Owns: one atomic counter and its limit. Made for caches that build
 * entries outside any lock (covering trees, encoded features): a builder
 * takes its bytes before allocating and gives them back when it frees, so
 * what the cache holds, built or being built, never passes the limit.
 * Invariants: used() <= limit at every moment (a take that would pass it
 * fails and changes nothing); every successful take is matched by one give
 * back of the same bytes. Lock-free; all calls are thread-safe. */
#ifndef MAILLAGE_BYTE_BUDGET_H
#define MAILLAGE_BYTE_BUDGET_H

#include <stdatomic.h>
#include <stddef.h>

typedef struct ByteBudget {
    atomic_size_t used;
    size_t limit;
} ByteBudget;

/* An empty budget of `limit` bytes. */
void byte_budget_init(ByteBudget *budget, size_t limit);
/* Takes `bytes` when they fit with `keep_free` bytes still free after
 * them (room promised to someone else; 0: none); returns 1 when taken, 0
 * (taking nothing) otherwise. */
int byte_budget_take(ByteBudget *budget, size_t bytes, size_t keep_free);
/* Gives back `bytes` taken before. */
void byte_budget_give_back(ByteBudget *budget, size_t bytes);
/* Bytes taken now (at most the limit). */
size_t byte_budget_used(const ByteBudget *budget);

#endif
