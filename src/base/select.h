/* select.h — quickselect, the one selection helper of maillage.
 *
 * Owns: partial sorting in place. SELECT_DEFINE(name, Type, Context, key_of)
 * defines
 *
 *     static void name(Type *items, ptrdiff_t count, ptrdiff_t nth, Context context)
 *
 * which reorders items[0, count) so that items[nth] holds the item a full
 * sort by key would put there, every item before it has a key <= its key
 * and every item after it a key >= (Hoare partition around a median of
 * three; O(count) on average, no allocation). `key_of(item, context)` is a
 * macro or function giving the key of `*item`, compared with `<`. The
 * function is generated per type, rather than taking a comparison callback
 * like qsort, so that the key read and the swap inline: the k-d tree build
 * selects medians over a million 16-byte points.
 * Invariants: 0 <= nth < count (asserted); items outside [0, count) are
 * never touched; items with equal keys may end in any order. */
#ifndef MAILLAGE_SELECT_H
#define MAILLAGE_SELECT_H

#include <assert.h>
#include <stddef.h>

#define SELECT_SWAP_(Type, items, a, b)                                                            \
    do {                                                                                           \
        Type held_ = (items)[a];                                                                   \
        (items)[a] = (items)[b];                                                                   \
        (items)[b] = held_;                                                                        \
    } while (0)

#define SELECT_DEFINE(name, Type, Context, key_of)                                                 \
    static void name(Type *items, ptrdiff_t count, ptrdiff_t nth, Context context)                 \
    {                                                                                              \
        assert(nth >= 0 && nth < count);                                                           \
        (void)context;                                                                             \
        ptrdiff_t left = 0, right = count - 1;                                                     \
        while (right > left) {                                                                     \
            ptrdiff_t middle = left + (right - left) / 2;                                          \
            if (key_of(&items[middle], context) < key_of(&items[left], context))                   \
                SELECT_SWAP_(Type, items, middle, left);                                           \
            if (key_of(&items[right], context) < key_of(&items[left], context))                    \
                SELECT_SWAP_(Type, items, right, left);                                            \
            if (key_of(&items[right], context) < key_of(&items[middle], context))                  \
                SELECT_SWAP_(Type, items, right, middle);                                          \
            __typeof__(key_of(&items[middle], context)) pivot = key_of(&items[middle], context);   \
            ptrdiff_t i = left, j = right;                                                         \
            while (i <= j) {                                                                       \
                while (key_of(&items[i], context) < pivot)                                         \
                    i++;                                                                           \
                while (pivot < key_of(&items[j], context))                                         \
                    j--;                                                                           \
                if (i <= j) {                                                                      \
                    SELECT_SWAP_(Type, items, i, j);                                               \
                    i++;                                                                           \
                    j--;                                                                           \
                }                                                                                  \
            }                                                                                      \
            if (nth <= j)                                                                          \
                right = j;                                                                         \
            else if (nth >= i)                                                                     \
                left = i;                                                                          \
            else                                                                                   \
                return;                                                                            \
        }                                                                                          \
    }

#endif
