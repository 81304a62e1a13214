/* byte_budget.c — bytes held against a limit; see byte_budget.h. */
#include "base/byte_budget.h"

#include <assert.h>

void byte_budget_init(ByteBudget *budget, size_t limit)
{
    atomic_init(&budget->used, 0);
    budget->limit = limit;
}

int byte_budget_take(ByteBudget *budget, size_t bytes, size_t keep_free)
{
    size_t used = atomic_load_explicit(&budget->used, memory_order_relaxed);
    do {
        assert(used <= budget->limit);
        size_t free_bytes = budget->limit - used;
        if (bytes > free_bytes || keep_free > free_bytes - bytes)
            return 0;
    } while (!atomic_compare_exchange_weak_explicit(&budget->used, &used, used + bytes,
                                                    memory_order_relaxed, memory_order_relaxed));
    return 1;
}

void byte_budget_give_back(ByteBudget *budget, size_t bytes)
{
    size_t before = atomic_fetch_sub_explicit(&budget->used, bytes, memory_order_relaxed);
    assert(before >= bytes);
    (void)before;
}

size_t byte_budget_used(const ByteBudget *budget)
{
    return atomic_load_explicit(&((ByteBudget *)budget)->used, memory_order_relaxed);
}
