/* arena.h - bump allocator for short-lived query trees (parse trees, plans).
 *
 * Everything allocated from an arena lives until q_arena_release(), which frees it all at
 * once; there is no per-object free. Not thread-safe: one arena per query. */
#ifndef Q_ARENA_H
#define Q_ARENA_H

#include <stddef.h>

struct q_arena_block; /* defined in arena.c */

/* An embedded arena. All-zero is a valid empty arena (same as after q_arena_init). */
struct q_arena {
    struct q_arena_block *head; /* block allocations are bumped from; NULL when empty.
                                   Older and oversized blocks follow it in a list. */
    size_t total;               /* bytes obtained from malloc so far (blocks included) */
};

/* Make A empty. Does not allocate. */
void q_arena_init(struct q_arena *a);

/* SIZE zeroed bytes aligned for any type (max_align_t), owned by A. SIZE 0 returns a
 * valid unique pointer. NULL when out of memory (or SIZE is absurdly large). */
void *q_arena_alloc(struct q_arena *a, size_t size);

/* NUL-terminated copy of the C string S, owned by A. NULL when out of memory. */
char *q_arena_strdup(struct q_arena *a, const char *s);

/* NUL-terminated copy of S[0..len) (which may contain no NUL), owned by A. NULL when out
 * of memory. */
char *q_arena_strndup(struct q_arena *a, const char *s, size_t len);

/* Free everything allocated from A and make it empty again (reusable). Accepts an arena
 * that was only initialized. */
void q_arena_release(struct q_arena *a);

#endif
