/* arena.c - bump allocator for query trees: a list of malloc'd blocks, freed all at once. */
#include "arena.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 4096 /* usable bytes of an ordinary block */
#define ARENA_ALIGN _Alignof(max_align_t)

/* One malloc'd block; data follows the header (whose size is rounded up to ARENA_ALIGN). */
struct q_arena_block {
    struct q_arena_block *next; /* older blocks */
    size_t used;                /* bytes of data handed out; used <= cap */
    size_t cap;                 /* bytes of data */
};

#define HDR ((sizeof(struct q_arena_block) + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN)

static unsigned char *block_data(struct q_arena_block *b)
{
    return (unsigned char *)b + HDR;
}

void q_arena_init(struct q_arena *a)
{
    a->head = NULL;
    a->total = 0;
}

static struct q_arena_block *block_new(size_t cap)
{
    struct q_arena_block *b;

    if (cap > SIZE_MAX - HDR)
        return NULL;
    b = malloc(HDR + cap);
    if (!b)
        return NULL;
    b->next = NULL;
    b->used = 0;
    b->cap = cap;
    return b;
}

void *q_arena_alloc(struct q_arena *a, size_t size)
{
    struct q_arena_block *b = a->head;
    size_t need;
    unsigned char *p;

    if (size > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    need = (size + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (need == 0)
        need = ARENA_ALIGN;
    if (!b || b->cap - b->used < need) {
        if (need > ARENA_BLOCK / 4) {
            /* Oversized: its own block, kept behind the current one so that the bump
             * block's free space is not wasted. */
            b = block_new(need);
            if (!b)
                return NULL;
            if (a->head) {
                b->next = a->head->next;
                a->head->next = b;
            } else {
                a->head = b;
            }
        } else {
            b = block_new(ARENA_BLOCK);
            if (!b)
                return NULL;
            b->next = a->head;
            a->head = b;
        }
        a->total += HDR + b->cap;
    }
    p = block_data(b) + b->used;
    b->used += need;
    memset(p, 0, need);
    return p;
}

char *q_arena_strndup(struct q_arena *a, const char *s, size_t len)
{
    char *p;

    if (len == SIZE_MAX)
        return NULL;
    p = q_arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = 0;
    return p;
}

char *q_arena_strdup(struct q_arena *a, const char *s)
{
    return q_arena_strndup(a, s, strlen(s));
}

void q_arena_release(struct q_arena *a)
{
    struct q_arena_block *b = a->head;

    while (b) {
        struct q_arena_block *next = b->next;
        free(b);
        b = next;
    }
    q_arena_init(a);
}
