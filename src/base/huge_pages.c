/* huge_pages.c — see huge_pages.h. */
#include "base/huge_pages.h"

#include <stdint.h>
#include <sys/mman.h>

#define HUGE_PAGE_BYTES ((uintptr_t)2 << 20)

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 /* Linux 6.1; older kernels answer EINVAL */
#endif

size_t huge_pages_advise(void *start, size_t size)
{
    if (!start || size < HUGE_PAGES_MIN_BYTES)
        return 0;
    uintptr_t first = ((uintptr_t)start + HUGE_PAGE_BYTES - 1) & ~(HUGE_PAGE_BYTES - 1);
    uintptr_t end = ((uintptr_t)start + size) & ~(HUGE_PAGE_BYTES - 1);
    if (end <= first)
        return 0;
    size_t length = (size_t)(end - first);
    /* MADV_HUGEPAGE keeps the pages huge if they are ever split or paged
     * back in; MADV_COLLAPSE moves the filled ones now. */
    if (madvise((void *)first, length, MADV_HUGEPAGE) != 0)
        return 0;
    return madvise((void *)first, length, MADV_COLLAPSE) == 0 ? length : 0;
}
