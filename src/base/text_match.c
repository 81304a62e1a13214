/* text_match.c — folded query matching; see text_match.h. */
#include "base/text_match.h"

#include "base/buffer.h"
#include "base/text.h"

#include <stdlib.h>
#include <string.h>

/* Appends the terminating NUL itself: a query with no letter or digit
 * folds to nothing, and the result must still be a valid empty string. */
static char *fold_copy(const char *text)
{
    Buffer folded;
    buffer_init(&folded);
    text_fold(&folded, text, strlen(text));
    buffer_append_char(&folded, 0);
    return buffer_detach(&folded, NULL);
}

int text_query_init(TextQuery *query, const char *text)
{
    memset(query, 0, sizeof *query);
    query->folded = fold_copy(text);
    query->split = query->folded ? strdup(query->folded) : NULL;
    if (!query->folded || !query->split) {
        text_query_free(query);
        return -1;
    }
    query->length = strlen(query->folded);
    char *at = query->split;
    while (*at && query->word_count < TEXT_QUERY_MAX_WORDS) {
        query->words[query->word_count++] = at;
        char *space = strchr(at, ' ');
        if (!space)
            break;
        *space = 0;
        at = space + 1;
    }
    return 0;
}

void text_query_free(TextQuery *query)
{
    free(query->folded);
    free(query->split);
    memset(query, 0, sizeof *query);
}

int text_query_words_match(const TextQuery *query, const char *text)
{
    for (size_t w = 0; w < query->word_count; w++) {
        const char *at = text;
        int found = 0;
        /* strstr() finds candidates quickly; one counts at a word start. */
        while ((at = strstr(at, query->words[w])) != NULL) {
            if (at == text || at[-1] == ' ') {
                found = 1;
                break;
            }
            at++;
        }
        if (!found)
            return 0;
    }
    return 1;
}
