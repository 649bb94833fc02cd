/* analyzer.c - text analysis: UTF-8 validation, folding, tokenizing, stemming.
 *
 * The rules are listed with examples in docs/ANALYSIS.md; in short:
 *
 *   - Input is UTF-8. Each maximal ill-formed subpart (Unicode 15 §3.9, the W3C/WHATWG
 *     "replacement" practice) counts as one invalid sequence and reads as U+FFFD, which is a
 *     separator.
 *   - A word is a run of letters (L*), digits (N*) and combining marks (M*). Inside a word:
 *     an apostrophe (U+0027 or U+2019) between two letters stays, written as U+0027; a ','
 *     or '.' between two decimal digits stays ('.' is kept, ',' dropped); a soft hyphen or
 *     zero-width (non-)joiner / word joiner followed by a word character is dropped. A run of
 *     single letters joined by dots (U.S., U.S.A., e.g.) is one word without the dots; its
 *     span includes the final dot. Everything else separates words.
 *   - Each word is case folded (and diacritics stripped when cfg.fold_diacritics) with
 *     utf8proc, then stemmed by libstemmer unless it has no letter (numbers are not stemmed).
 *     Words longer than WORD_RAW_MAX input bytes or whose folded form is longer than
 *     TERM_MAX bytes are dropped without taking a position (base64 blobs, hashes).
 *
 * Speed: this is the hottest loop of indexing. ASCII bytes are classified by a 256-entry
 * table and lower-cased inline; a plain word (ASCII letters and digits ended by a
 * separator, most words of news text) is read by a fast path (scan_plain_word) with one
 * lookup and one store a byte; utf8proc is called only for code points >= 0x80 (category)
 * and for words that contain one (folding). Nothing is allocated per token: the current
 * word, the utf8proc buffer and the stem cache live in struct fmt_analyzer.
 *
 * Stem cache: open addressing (linear probing) over cache_slots slots keyed by the folded
 * word, with keys and stems in one byte arena. It starts small (a query stems a few
 * bodies) and grows 4x each time it fills, up to CACHE_SLOTS; once at full size, when 3/4
 * of the slots or the arena
 * are used up the whole cache is dropped in O(1) by bumping a generation number (a slot is
 * live only when its gen equals the cache's). The stemmer is a pure function of the word,
 * so the cache never changes results.
 */
#include "analyzer.h"
#include "codec.h"

#include <libstemmer.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define WORD_RAW_MAX 1024 /* longest word kept, in input bytes (after dropping ',' etc.) */
#define TERM_MAX 255      /* longest folded term kept, in bytes */

#define CACHE_SLOTS 65536u /* largest slot count, power of two */
#define CACHE_ARENA_SIZE (1024u * 1024u) /* largest arena */
#define CACHE_SLOTS_START 4096u          /* a query analyzes a few bodies: start small, */
#define CACHE_ARENA_START (64u * 1024u)  /* grow 4x when full (indexing), up to the above */

#define UCS_INITIAL 256 /* initial code point capacity of the utf8proc scratch buffer */

/* Character classes. C_LETTER..C_MARK are word characters (see is_word()). */
enum {
    C_SEP = 0, /* separator: space, punctuation, symbol, control, U+FFFD */
    C_LETTER,  /* L* */
    C_DIGIT,   /* Nd */
    C_NUM,     /* Nl, No: numeric but not a decimal digit (², Ⅻ) */
    C_MARK,    /* M* */
    C_APOS,    /* ' U+0027, ’ U+2019 */
    C_DOT,     /* . */
    C_COMMA,   /* , */
    C_IGNORE,  /* soft hyphen, ZWNJ, ZWJ, word joiner: dropped inside a word */
    C_MULTI,   /* lead or continuation byte >= 0x80: decode first */
};

#define S_ C_SEP
#define L_ C_LETTER
#define D_ C_DIGIT
#define X_ C_MULTI
#define R8(c) c, c, c, c, c, c, c, c
#define R16(c) R8(c), R8(c)

static const uint8_t ascii_class[256] = {
    /* 0x00 - 0x1f: controls */
    R16(S_), R16(S_),
    /* 0x20  space ! " # $ % & ' ( ) * + , - . / */
    S_, S_, S_, S_, S_, S_, S_, C_APOS, S_, S_, S_, S_, C_COMMA, S_, C_DOT, S_,
    /* 0x30  0-9 : ; < = > ? */
    D_, D_, D_, D_, D_, D_, D_, D_, D_, D_, S_, S_, S_, S_, S_, S_,
    /* 0x40  @ A-O */
    S_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_,
    /* 0x50  P-Z [ \ ] ^ _ */
    L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, S_, S_, S_, S_, S_,
    /* 0x60  ` a-o */
    S_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_,
    /* 0x70  p-z { | } ~ DEL */
    L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, S_, S_, S_, S_, S_,
    /* 0x80 - 0xff */
    R16(X_), R16(X_), R16(X_), R16(X_), R16(X_), R16(X_), R16(X_), R16(X_),
};

#undef S_
#undef L_
#undef D_
#undef X_
#undef R8
#undef R16

/* One stem cache slot; live iff gen == fmt_analyzer.cache_gen. Key (klen bytes) and stem
 * (slen bytes) are stored back to back at cache_arena + off. */
struct stem_slot {
    uint32_t hash;
    uint32_t gen;
    uint32_t off;
    uint16_t klen;
    uint16_t slen;
};

struct fmt_analyzer {
    struct fmt_analyzer_cfg cfg;
    struct sb_stemmer *stemmer; /* NULL for language "none" */
    int stem_keeps_first;       /* the stemmer never changes a word's first byte */
    utf8proc_option_t fold_opts;
    /* utf8proc scratch: ucs_cap + 1 code points (reencode writes a NUL past the end) */
    int32_t *ucs;
    size_t ucs_cap;
    /* stem cache (NULL when there is no stemmer) */
    struct stem_slot *cache;
    uint8_t *cache_arena;
    size_t cache_used;    /* bytes of cache_arena in use */
    size_t cache_entries; /* live slots */
    uint32_t cache_gen;   /* never 0: calloc'd slots have gen 0 */
    size_t cache_slots;   /* slots now allocated, power of two <= CACHE_SLOTS */
    size_t cache_arena_size; /* bytes of cache_arena (allocated ARENA_SLACK more) */
    /* the current word: ASCII already lower-cased, ' for apostrophes, no ',' or acronym
     * dots; holds up to WORD_RAW_MAX bytes */
    uint8_t raw[WORD_RAW_MAX + 8];
};

/* The word being scanned. */
struct word {
    size_t start;   /* byte offset of its first character in the input */
    size_t end;     /* byte offset just past it */
    size_t rlen;    /* bytes in fmt_analyzer.raw */
    int nonascii;   /* raw holds a code point >= 0x80: fold with utf8proc */
    int has_letter; /* 0 for numbers: not stemmed */
    int too_long;   /* more than WORD_RAW_MAX bytes: dropped */
};

void fmt_analyzer_cfg_default(struct fmt_analyzer_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    memcpy(cfg->language, "english", sizeof("english"));
    cfg->fold_diacritics = 1;
}

/* ---- UTF-8 ---------------------------------------------------------------------------- */

/* Decode the code point at S[0..len), len >= 1. Returns the bytes consumed (>= 1) and sets
 * *cp, or -1 for an invalid sequence, in which case the bytes consumed are its maximal
 * ill-formed subpart (so "\xe2\x82" is one bad sequence and "\xc0\xaf" two). Rejects
 * overlongs, surrogates and code points above U+10FFFF. */
static size_t utf8_decode(const uint8_t *s, size_t len, int32_t *cp)
{
    uint8_t b = s[0];
    uint8_t lo = 0x80, hi = 0xbf;
    size_t need, i;
    int32_t c;

    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xc2 && b <= 0xdf) {
        need = 1;
        c = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        c = b & 0x0f;
        if (b == 0xe0)
            lo = 0xa0; /* overlong */
        else if (b == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3;
        c = b & 0x07;
        if (b == 0xf0)
            lo = 0x90; /* overlong */
        else if (b == 0xf4)
            hi = 0x8f; /* > U+10FFFF */
    } else {
        *cp = -1;
        return 1;
    }
    for (i = 1; i <= need; i++) {
        if (i >= len || s[i] < lo || s[i] > hi) {
            *cp = -1;
            return i;
        }
        c = (c << 6) | (s[i] & 0x3f);
        lo = 0x80;
        hi = 0xbf;
    }
    *cp = c;
    return need + 1;
}

/* Count the invalid sequences of S[0..len) and the bytes they cover. */
static size_t utf8_scan(const uint8_t *s, size_t len, size_t *first_bad, size_t *bad_bytes)
{
    size_t i = 0, nbad = 0, nbytes = 0, n;
    int32_t cp;

    while (i < len) {
        if (s[i] < 0x80) {
            uint64_t w;
            i++;
            while (i + 8 <= len && (memcpy(&w, s + i, 8), (w & 0x8080808080808080ull) == 0))
                i += 8; /* 8 ASCII bytes */
            continue;
        }
        n = utf8_decode(s + i, len - i, &cp);
        if (cp < 0) {
            if (nbad == 0 && first_bad)
                *first_bad = i;
            nbad++;
            nbytes += n;
        }
        i += n;
    }
    if (bad_bytes)
        *bad_bytes = nbytes;
    return nbad;
}

size_t fmt_utf8_invalid(const char *text, size_t len, size_t *first_bad)
{
    if (len == 0)
        return 0;
    return utf8_scan((const uint8_t *)text, len, first_bad, NULL);
}

char *fmt_utf8_repair(const char *text, size_t len, size_t *nbad)
{
    static const uint8_t fffd[3] = {0xef, 0xbf, 0xbd};
    const uint8_t *s = (const uint8_t *)text;
    size_t bad = 0, bad_bytes = 0, size, i = 0, o = 0, n;
    uint8_t *out;
    int32_t cp;

    if (len > 0)
        bad = utf8_scan(s, len, NULL, &bad_bytes);
    if (nbad)
        *nbad = bad;
    /* len - bad_bytes + 3 * bad + 1, with bad <= bad_bytes <= len */
    if (bad > (SIZE_MAX - 1 - (len - bad_bytes)) / 3)
        return NULL;
    size = len - bad_bytes + 3 * bad + 1;
    out = malloc(size);
    if (!out)
        return NULL;
    if (bad == 0) {
        if (len > 0)
            memcpy(out, s, len);
        out[len] = 0;
        return (char *)out;
    }
    while (i < len) {
        if (s[i] < 0x80) {
            out[o++] = s[i++];
            continue;
        }
        n = utf8_decode(s + i, len - i, &cp);
        if (cp < 0) {
            memcpy(out + o, fffd, 3);
            o += 3;
        } else {
            memcpy(out + o, s + i, n);
            o += n;
        }
        i += n;
    }
    out[o] = 0;
    return (char *)out;
}

/* ---- character classes ----------------------------------------------------------------- */

static unsigned unicode_class(int32_t cp)
{
    switch (cp) {
    case 0x2019:
        return C_APOS;
    case 0x00ad: /* soft hyphen */
    case 0x200c: /* zero width non-joiner */
    case 0x200d: /* zero width joiner */
    case 0x2060: /* word joiner */
        return C_IGNORE;
    default:
        break;
    }
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return C_LETTER;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
        return C_MARK;
    case UTF8PROC_CATEGORY_ND:
        return C_DIGIT;
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return C_NUM;
    default:
        return C_SEP;
    }
}

static inline int is_word(unsigned cls)
{
    return cls >= C_LETTER && cls <= C_MARK;
}

/* Class of the character at S[i] (i < len); *n receives its length in bytes. */
static inline unsigned class_at(const uint8_t *s, size_t len, size_t i, size_t *n)
{
    unsigned cls = ascii_class[s[i]];
    int32_t cp;

    if (cls != C_MULTI) {
        *n = 1;
        return cls;
    }
    *n = utf8_decode(s + i, len - i, &cp);
    return cp < 0 ? C_SEP : unicode_class(cp);
}

/* ---- tokenizer ----------------------------------------------------------------------- */

/* Append the character P[0..n) of class CLS to the current word. */
static inline void word_put(struct fmt_analyzer *an, struct word *w, const uint8_t *p, size_t n,
                            unsigned cls)
{
    if (w->rlen + n > WORD_RAW_MAX) {
        w->too_long = 1;
        return;
    }
    if (n == 1) {
        an->raw[w->rlen++] = cls == C_LETTER ? (uint8_t)(p[0] | 0x20) : p[0];
    } else {
        memcpy(an->raw + w->rlen, p, n);
        w->rlen += n;
        w->nonascii = 1;
    }
    if (cls == C_LETTER)
        w->has_letter = 1;
}

/* Try to read an acronym (U.S., U.S.A., e.g.) at S[i], a letter of N bytes. Returns 1 and
 * fills W when at least two single letters are joined by dots; otherwise 0 and W is junk. */
static int scan_acronym(struct fmt_analyzer *an, const uint8_t *s, size_t len, size_t i,
                        size_t n, struct word *w)
{
    size_t j = i, k, m, committed = 0;
    unsigned cls = C_SEP;
    int letters = 0;

    memset(w, 0, sizeof(*w));
    w->start = i;
    for (;;) {
        word_put(an, w, s + j, n, C_LETTER);
        for (k = j + n; k < len && (cls = class_at(s, len, k, &m)) == C_MARK; k += m)
            word_put(an, w, s + k, m, C_MARK);
        if (k < len && s[k] == '.') {
            letters++;
            committed = w->rlen;
            w->end = k + 1;
            j = k + 1;
            if (j < len && class_at(s, len, j, &n) == C_LETTER)
                continue;
            break;
        }
        if (k >= len || !is_word(cls)) { /* a last single letter without a dot */
            letters++;
            committed = w->rlen;
            w->end = k;
        }
        break;
    }
    w->rlen = committed;
    return letters >= 2;
}

/* Read the word that starts at S[i], a word character of class CLS and N bytes, into W.
 * Returns the offset just past it. */
static size_t scan_word(struct fmt_analyzer *an, const uint8_t *s, size_t len, size_t i,
                        unsigned cls, size_t n, struct word *w)
{
    unsigned base = cls; /* class of the last character that is not a mark */
    unsigned next;
    size_t n2;

    memset(w, 0, sizeof(*w));
    w->start = i;
    for (;;) {
        word_put(an, w, s + i, n, cls);
        if (cls != C_MARK)
            base = cls;
        i += n;
        if (i >= len)
            break;
        cls = class_at(s, len, i, &n);
        if (is_word(cls))
            continue;
        if (cls != C_APOS && cls != C_DOT && cls != C_COMMA && cls != C_IGNORE)
            break;
        if (i + n >= len)
            break;
        next = class_at(s, len, i + n, &n2);
        if (cls == C_APOS && base == C_LETTER && next == C_LETTER)
            word_put(an, w, (const uint8_t *)"'", 1, C_APOS);
        else if (cls == C_DOT && base == C_DIGIT && next == C_DIGIT)
            word_put(an, w, (const uint8_t *)".", 1, C_DOT);
        else if (cls == C_COMMA && base == C_DIGIT && next == C_DIGIT)
            ; /* thousands separator: dropped */
        else if (!(cls == C_IGNORE && is_word(next)))
            break;
        i += n;
        cls = next;
        n = n2;
    }
    w->end = i;
    return i;
}

/* The common word: ASCII letters and digits only, ended by the end of the text, an ASCII
 * separator, or a '\'', '.' or ',' that scan_word would not take in (one not followed by an
 * ASCII letter or digit or a byte >= 0x80), and not a single letter before '.' (a possible
 * acronym). Reads it into W and returns 1, or returns 0 (W undefined) when scan_word must
 * decide. The same word as scan_word, with a fraction of the work per byte. */
static inline int scan_plain_word(struct fmt_analyzer *an, const uint8_t *s, size_t len,
                                  size_t i, struct word *w)
{
    size_t j = i, end = len - i > WORD_RAW_MAX ? i + WORD_RAW_MAX : len;
    int letter = 0;
    unsigned cls = C_SEP;

    for (; j < end; j++) {
        cls = ascii_class[s[j]];
        if (cls == C_LETTER) {
            an->raw[j - i] = (uint8_t)(s[j] | 0x20);
            letter = 1;
        } else if (cls == C_DIGIT) {
            an->raw[j - i] = s[j];
        } else {
            break;
        }
    }
    if (j < len) {
        if (j == end)
            return 0; /* too long: scan_word drops it */
        if (cls == C_MULTI)
            return 0;
        if (cls == C_APOS || cls == C_DOT || cls == C_COMMA) {
            if (j + 1 < len) {
                unsigned next = ascii_class[s[j + 1]];
                if (next == C_LETTER || next == C_DIGIT || next == C_MULTI)
                    return 0;
            }
            if (cls == C_DOT && j == i + 1)
                return 0;
        }
    }
    w->start = i;
    w->end = j;
    w->rlen = j - i;
    w->nonascii = 0;
    w->has_letter = letter;
    w->too_long = 0;
    return 1;
}

/* ---- folding and stemming ---------------------------------------------------------------- */

/* Fold the non-ASCII word in an->raw[0..rlen) with utf8proc into an->ucs. raw holds only
 * valid scalar values, so utf8proc's only possible failure is running out of memory; any
 * other error code would be a bug and is reported as FMT_EINVAL. */
static int fold_word(struct fmt_analyzer *an, size_t rlen, const uint8_t **term, size_t *tlen)
{
    utf8proc_ssize_t n;
    int32_t *p;

    for (;;) {
        n = utf8proc_decompose(an->raw, (utf8proc_ssize_t)rlen, an->ucs,
                               (utf8proc_ssize_t)an->ucs_cap, an->fold_opts);
        if (n < 0)
            return n == UTF8PROC_ERROR_NOMEM ? FMT_ENOMEM : FMT_EINVAL;
        if ((size_t)n <= an->ucs_cap)
            break;
        p = realloc(an->ucs, ((size_t)n + 1) * sizeof(*p));
        if (!p)
            return FMT_ENOMEM;
        an->ucs = p;
        an->ucs_cap = (size_t)n;
    }
    n = utf8proc_reencode(an->ucs, n, an->fold_opts);
    if (n < 0)
        return n == UTF8PROC_ERROR_NOMEM ? FMT_ENOMEM : FMT_EINVAL;
    *term = (const uint8_t *)an->ucs;
    *tlen = (size_t)n;
    return FMT_OK;
}

/* The stem cache reads words 8 bytes at a time: up to 7 bytes past a word's end are read
 * (and ignored). Every buffer a word is in has that slack: an->raw (WORD_RAW_MAX + 8 for
 * words of at most TERM_MAX bytes), an->ucs (4 x (UCS_INITIAL + 1) bytes at least, for the
 * same) and the cache arena (allocated ARENA_SLACK bytes longer). */
#define ARENA_SLACK 8

/* The first N (1..8) bytes at P as a number, the rest zero. */
static inline uint64_t head_bytes(const uint8_t *p, size_t n)
{
    return fmt_get_u64le(p) & (~0ull >> (64 - 8 * n));
}

/* Hash of the LEN >= 1 bytes at P, 8 at a time (the cache's own: nothing stores it). */
static inline uint32_t hash_word(const uint8_t *p, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len;

    for (; len > 8; len -= 8, p += 8) {
        h = (h ^ fmt_get_u64le(p)) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    h = (h ^ head_bytes(p, len)) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)h;
}

/* Equality of two words of N >= 1 bytes, 8 bytes at a time. */
static inline int same_word(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (; n > 8; n -= 8, a += 8, b += 8)
        if (fmt_get_u64le(a) != fmt_get_u64le(b))
            return 0;
    return head_bytes(a, n) == head_bytes(b, n);
}

static void cache_clear(struct fmt_analyzer *an)
{
    an->cache_used = 0;
    an->cache_entries = 0;
    if (an->cache_slots < CACHE_SLOTS) { /* grow 4x, dropping the contents */
        struct stem_slot *slots = calloc(an->cache_slots * 4, sizeof(*slots));
        uint8_t *arena = malloc(an->cache_arena_size * 4 + ARENA_SLACK);
        if (slots && arena) {
            free(an->cache);
            free(an->cache_arena);
            an->cache = slots;
            an->cache_arena = arena;
            an->cache_slots *= 4;
            an->cache_arena_size *= 4;
            an->cache_gen = 1;
            return;
        }
        free(slots); /* no memory to grow: keep the smaller cache */
        free(arena);
    }
    an->cache_gen++;
    if (an->cache_gen == 0) { /* wrapped: old slots could look live again */
        memset(an->cache, 0, an->cache_slots * sizeof(*an->cache));
        an->cache_gen = 1;
    }
}

/* Replace *TERM by its stem, through the cache. The result is borrowed from the stemmer or
 * the cache and valid until the next call. */
static int stem_word(struct fmt_analyzer *an, const uint8_t **term, size_t *tlen)
{
    const uint8_t *key = *term;
    size_t klen = *tlen, slen;
    size_t mask = an->cache_slots - 1;
    uint32_t h = hash_word(key, klen), i = h & (uint32_t)mask;
    struct stem_slot *slot;
    const sb_symbol *stem;

    for (slot = &an->cache[i]; slot->gen == an->cache_gen; slot = &an->cache[i]) {
        if (slot->hash == h && slot->klen == klen &&
            same_word(an->cache_arena + slot->off, key, klen)) {
            *term = an->cache_arena + slot->off + klen;
            *tlen = slot->slen;
            return FMT_OK;
        }
        i = (i + 1) & (uint32_t)mask;
    }
    stem = sb_stemmer_stem(an->stemmer, key, (int)klen);
    if (!stem)
        return FMT_ENOMEM;
    slen = (size_t)sb_stemmer_length(an->stemmer);
    *term = stem;
    *tlen = slen;
    if (slen > UINT16_MAX || klen + slen > CACHE_ARENA_START)
        return FMT_OK;
    if (an->cache_entries >= an->cache_slots / 4 * 3 ||
        an->cache_used + klen + slen > an->cache_arena_size) {
        cache_clear(an);
        slot = &an->cache[h & (an->cache_slots - 1)];
    }
    slot->hash = h;
    slot->gen = an->cache_gen;
    slot->off = (uint32_t)an->cache_used;
    slot->klen = (uint16_t)klen;
    slot->slen = (uint16_t)slen;
    memcpy(an->cache_arena + an->cache_used, key, klen);
    memcpy(an->cache_arena + an->cache_used + klen, stem, slen);
    an->cache_used += klen + slen;
    an->cache_entries++;
    return FMT_OK;
}

/* How analyze() treats words that have a letter: stem them, hand them on unstemmed, or hand
 * them on unstemmed with fmt_token.stem set (fmt_analyze_deferred). */
enum { STEM_NO, STEM_YES, STEM_DEFER };

/* Fold, stem (as STEM says) and hand the word W to FN as token number POS. *EMITTED says whether a token
 * was produced (dropped words take no position). With FIRST, FN only sees terms starting
 * with a flagged byte (fmt_analyze_first). Returns FMT_OK, an error or FN's value. */
static int emit_word(struct fmt_analyzer *an, const struct word *w, int stem, uint32_t pos,
                     const uint8_t *first, fmt_token_fn fn, void *ctx, int *emitted)
{
    struct fmt_token tok;
    const uint8_t *term = an->raw;
    size_t tlen = w->rlen;
    int rc;

    *emitted = 0;
    if (w->too_long)
        return FMT_OK;
    if (w->nonascii) {
        rc = fold_word(an, w->rlen, &term, &tlen);
        if (rc != FMT_OK)
            return rc;
    }
    if (tlen == 0 || tlen > TERM_MAX)
        return FMT_OK; /* only marks (stripped), or a blob */
    *emitted = 1;
    if (first && !first[term[0]] && (!stem || !an->stemmer || an->stem_keeps_first))
        return FMT_OK; /* its term cannot start with a flagged byte */
    tok.stem = 0;
    if (stem && an->stemmer && w->has_letter) {
        if (stem == STEM_DEFER) {
            tok.stem = 1;
        } else {
            rc = stem_word(an, &term, &tlen);
            if (rc != FMT_OK)
                return rc;
        }
    }
    if (first && (tlen == 0 || !first[term[0]]))
        return FMT_OK;
    tok.term = (const char *)term;
    tok.len = tlen;
    tok.pos = pos;
    tok.start = w->start;
    tok.end = w->end;
    return fn(ctx, &tok);
}

static int analyze(struct fmt_analyzer *an, const char *text, size_t len, int stem,
                   const uint8_t *first, fmt_token_fn fn, void *ctx)
{
    const uint8_t *s = (const uint8_t *)text;
    size_t i = 0, n;
    uint32_t pos = 0;
    unsigned cls;
    struct word w;
    int rc, emitted;

    while (i < len) {
        cls = ascii_class[s[i]];
        if (cls == C_SEP) {
            i++;
            continue;
        }
        if (cls == C_MULTI)
            cls = class_at(s, len, i, &n);
        else
            n = 1;
        if (!is_word(cls)) {
            i += n;
            continue;
        }
        if (n == 1 && scan_plain_word(an, s, len, i, &w))
            i = w.end;
        /* cheap pre-check: an acronym letter is followed by '.' or a (multi-byte) mark */
        else if (cls == C_LETTER && i + n < len && (s[i + n] == '.' || s[i + n] >= 0x80) &&
            scan_acronym(an, s, len, i, n, &w))
            i = w.end;
        else
            i = scan_word(an, s, len, i, cls, n, &w);
        rc = emit_word(an, &w, stem, pos, first, fn, ctx, &emitted);
        if (rc != FMT_OK)
            return rc;
        pos += (uint32_t)emitted;
    }
    return FMT_OK;
}

int fmt_analyze(struct fmt_analyzer *an, const char *text, size_t len, fmt_token_fn fn,
                void *ctx)
{
    return analyze(an, text, len, STEM_YES, NULL, fn, ctx);
}

int fmt_analyze_unstemmed(struct fmt_analyzer *an, const char *text, size_t len,
                          fmt_token_fn fn, void *ctx)
{
    return analyze(an, text, len, STEM_NO, NULL, fn, ctx);
}

int fmt_analyze_first(struct fmt_analyzer *an, const char *text, size_t len,
                      const uint8_t first[256], fmt_token_fn fn, void *ctx)
{
    return analyze(an, text, len, STEM_YES, first, fn, ctx);
}

int fmt_analyze_deferred(struct fmt_analyzer *an, const char *text, size_t len,
                         fmt_token_fn fn, void *ctx)
{
    return analyze(an, text, len, STEM_DEFER, NULL, fn, ctx);
}

int fmt_analyzer_stem(struct fmt_analyzer *an, const char *term, size_t len,
                      const char **stem, size_t *slen)
{
    const uint8_t *t = (const uint8_t *)term;
    int rc;

    *stem = term;
    *slen = len;
    if (!an->stemmer)
        return FMT_OK;
    rc = stem_word(an, &t, slen);
    *stem = (const char *)t;
    return rc;
}

/* ---- lifetime -------------------------------------------------------------------------- */

static int language_is_known(const char *name)
{
    const char **list = sb_stemmer_list();
    size_t i;

    for (i = 0; list && list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

static int open_stemmer(struct fmt_analyzer *an, struct fmt_err *err)
{
    an->stemmer = sb_stemmer_new(an->cfg.language, "UTF_8");
    if (!an->stemmer) {
        if (language_is_known(an->cfg.language))
            return fmt_errorf(err, FMT_ENOMEM, "out of memory creating the %s stemmer",
                              an->cfg.language);
        return fmt_errorf(err, FMT_EINVAL, "unknown analyzer language \"%s\"",
                          an->cfg.language);
    }
    /* Porter2 (english) rewrites suffixes only: its R1 region starts after a vowel and a
     * consonant, so no rule reaches the first letter, and its exceptional forms (skies ->
     * sky, dying -> die, ...) keep it too */
    an->stem_keeps_first = strcmp(an->cfg.language, "english") == 0;
    an->cache_slots = CACHE_SLOTS_START;
    an->cache_arena_size = CACHE_ARENA_START;
    an->cache = calloc(an->cache_slots, sizeof(*an->cache));
    an->cache_arena = malloc(an->cache_arena_size + ARENA_SLACK);
    if (!an->cache || !an->cache_arena)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory for the stem cache");
    an->cache_gen = 1;
    return FMT_OK;
}

int fmt_analyzer_new(struct fmt_analyzer **out, const struct fmt_analyzer_cfg *cfg,
                     struct fmt_err *err)
{
    struct fmt_analyzer *an;
    int rc;

    *out = NULL;
    an = calloc(1, sizeof(*an));
    if (!an)
        return fmt_errorf(err, FMT_ENOMEM, "out of memory creating the analyzer");
    if (cfg)
        an->cfg = *cfg;
    else
        fmt_analyzer_cfg_default(&an->cfg);
    if (!memchr(an->cfg.language, 0, sizeof(an->cfg.language))) {
        rc = fmt_errorf(err, FMT_EINVAL, "analyzer language is longer than %zu bytes",
                        sizeof(an->cfg.language) - 1);
        goto out_free;
    }
    an->cfg.fold_diacritics = an->cfg.fold_diacritics != 0;
    an->fold_opts = UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE;
    if (an->cfg.fold_diacritics)
        an->fold_opts |= UTF8PROC_COMPAT | UTF8PROC_STRIPMARK;
    an->ucs = malloc((UCS_INITIAL + 1) * sizeof(*an->ucs));
    if (!an->ucs) {
        rc = fmt_errorf(err, FMT_ENOMEM, "out of memory creating the analyzer");
        goto out_free;
    }
    an->ucs_cap = UCS_INITIAL;
    if (strcmp(an->cfg.language, "none") != 0) {
        rc = open_stemmer(an, err);
        if (rc != FMT_OK)
            goto out_free;
    }
    *out = an;
    return FMT_OK;
out_free:
    fmt_analyzer_free(an);
    return rc;
}

void fmt_analyzer_free(struct fmt_analyzer *an)
{
    if (!an)
        return;
    sb_stemmer_delete(an->stemmer);
    free(an->cache);
    free(an->cache_arena);
    free(an->ucs);
    free(an);
}
