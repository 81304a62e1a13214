/* huge_pages.h — asking the kernel to back large, randomly read arrays with
 * transparent huge pages.
 *
 * Owns: nothing; one piece of advice. A server on 1,000,000 sites reads its
 * sites, texts and k-d trees (about 300 MB) at random, a few dozen cache
 * lines a request, each on another 4 KB page: most reads also miss the
 * TLB, and in a virtual machine a TLB miss walks two page tables. With
 * 2 MB pages the whole set fits the TLB.
 * Invariants: advice only. The memory, its contents and who frees it (with
 * free(), as before) do not change; a kernel without transparent huge
 * pages, or without huge pages free, leaves it in 4 KB pages. */
#ifndef MAILLAGE_HUGE_PAGES_H
#define MAILLAGE_HUGE_PAGES_H

#include <stddef.h>

/* Below this many bytes an array is left alone (it holds no whole 2 MB page
 * worth the copy). */
#define HUGE_PAGES_MIN_BYTES ((size_t)4 << 20)

/* Advises the whole 2 MB pages inside [start, start + size) as huge pages
 * (MADV_HUGEPAGE) and asks the kernel to back them with huge pages now
 * (MADV_COLLAPSE, Linux 6.1 and later). Call it once the array has its
 * final size: right after allocating it, its pages come in huge with
 * nothing to copy (the k-d trees); once it is filled, the kernel copies
 * what it holds (the snapshot's arrays: tens of ms on 1M sites). Returns
 * the bytes now in huge pages as far as the advice reached (0 when the
 * array is under HUGE_PAGES_MIN_BYTES or the kernel declined); never
 * fails. NULL is allowed (0). */
size_t huge_pages_advise(void *start, size_t size);

#endif
