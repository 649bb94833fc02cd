/* gen-corpus.c - a seeded generator of synthetic news articles (JSON Lines) for scale tests.
 *
 *   gen-corpus --seed N --articles COUNT [--model DIR]... > out.jsonl
 *
 * Model. With --model, every file under each DIR is read once: Reuters-21578 SGML files
 * (*.sgm: <TITLE> and <BODY> of each <REUTERS> record) and saved-page text files (first line
 * the title, the rest the body). From them the generator takes the word frequency table
 * (lower-cased runs of letters, digits and inner apostrophes), the distribution of body
 * lengths and of title lengths (in words), and sentence lengths. Nothing of the corpora is
 * stored in the project: the model lives in memory for the run. Without --model a built-in
 * model is used: a Zipf (s = 1) distribution over 200,000 pseudo-words built from
 * syllables, log-normal body lengths (median 300 words) and 4-14-word titles.
 *
 * Generation. Real vocabulary keeps growing with corpus size (Heaps' law) while a small
 * model corpus has a few tens of thousands of words, so 3% of the words are drawn from a
 * long tail of 5 million pseudo-words with a log-uniform (Zipf s = 1) rank. Each article
 * also picks 12 "topic" words from the model distribution and uses one of them for 8% of its
 * words, which gives the bursty within-document term frequencies of real news. Words are
 * drawn from the model with Vose's alias method (O(1) a word). Sentences start with a
 * capital and end with a period; paragraphs are separated by blank lines. Timestamps run
 * from 2019-01-01 forward over five years in article order with a few days of jitter;
 * sources are 24 invented outlets with Zipf-like shares. The same seed, count and model give
 * byte-identical output.
 *
 * Output: one JSON object a line, keys id, title, source, timestamp (ISO 8601 UTC), body.
 * About 1 KB an article with the Reuters+BBC model (1M articles: about 1 GB, a few seconds).
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define TAIL_WORDS 5000000u   /* pseudo-words of the long tail */
#define TAIL_PERMILLE 30u     /* words drawn from the tail, per thousand */
#define TOPIC_WORDS 12u       /* topic words per article */
#define TOPIC_PERMILLE 80u    /* words drawn from the article's topic words, per thousand */
#define BUILTIN_WORDS 200000u /* vocabulary of the built-in model */
#define MAX_WORD 40           /* longest model word kept, in bytes */

/* ---- random numbers: xoshiro256** seeded by splitmix64 ----------------------------- */

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

/* Uniform in [0, n). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- the model -------------------------------------------------------------------------- */

struct u32vec {
    uint32_t *v;
    size_t n, cap;
};

struct model {
    char *arena;              /* word strings, NUL-terminated, back to back */
    size_t arena_len, arena_cap;
    uint32_t *word_off;       /* offset of word i in arena */
    uint64_t *count;          /* occurrences of word i */
    size_t nwords, words_cap;
    uint32_t *slots;          /* counting hash table: word index + 1, 0 empty */
    size_t nslots;
    struct u32vec body_len, title_len, sent_len;
    /* alias table over the words */
    double *prob;
    uint32_t *alias;
};

static void die_oom(void)
{
    fprintf(stderr, "gen-corpus: out of memory\n");
    exit(1);
}

static void vec_push(struct u32vec *v, uint32_t x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 1024;
        uint32_t *p = realloc(v->v, cap * sizeof(*p));
        if (!p)
            die_oom();
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = x;
}

static uint32_t hash_str(const char *s, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static void model_grow_slots(struct model *m)
{
    size_t ns = m->nslots ? m->nslots * 2 : 1 << 16;
    uint32_t *t = calloc(ns, sizeof(*t));

    if (!t)
        die_oom();
    for (size_t i = 0; i < m->nwords; i++) {
        const char *w = m->arena + m->word_off[i];
        size_t s = hash_str(w, strlen(w)) & (ns - 1);
        while (t[s])
            s = (s + 1) & (ns - 1);
        t[s] = (uint32_t)i + 1;
    }
    free(m->slots);
    m->slots = t;
    m->nslots = ns;
}

static void model_count(struct model *m, const char *w, size_t n)
{
    size_t s;

    if (m->nwords * 2 >= m->nslots)
        model_grow_slots(m);
    s = hash_str(w, n) & (m->nslots - 1);
    while (m->slots[s]) {
        uint32_t i = m->slots[s] - 1;
        const char *x = m->arena + m->word_off[i];
        if (!strncmp(x, w, n) && x[n] == '\0') {
            m->count[i]++;
            return;
        }
        s = (s + 1) & (m->nslots - 1);
    }
    if (m->nwords == m->words_cap) {
        size_t cap = m->words_cap ? m->words_cap * 2 : 4096;
        uint32_t *o = realloc(m->word_off, cap * sizeof(*o));
        uint64_t *c;
        if (!o)
            die_oom();
        m->word_off = o;
        c = realloc(m->count, cap * sizeof(*c));
        if (!c)
            die_oom();
        m->count = c;
        m->words_cap = cap;
    }
    if (m->arena_len + n + 1 > m->arena_cap) {
        size_t cap = m->arena_cap ? m->arena_cap * 2 : 1 << 20;
        char *a = realloc(m->arena, cap);
        if (!a)
            die_oom();
        m->arena = a;
        m->arena_cap = cap;
    }
    memcpy(m->arena + m->arena_len, w, n);
    m->arena[m->arena_len + n] = '\0';
    m->word_off[m->nwords] = (uint32_t)m->arena_len;
    m->count[m->nwords] = 1;
    m->arena_len += n + 1;
    m->slots[s] = (uint32_t)++m->nwords;
}

static int is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Count the words of TEXT[0..n) into the model; returns the number of words. Sentence
 * lengths (words between '.', '!' or '?' followed by a space) go to m->sent_len. */
static uint32_t model_text(struct model *m, const char *text, size_t n, int sentences)
{
    char w[MAX_WORD + 1];
    uint32_t words = 0, in_sent = 0;
    size_t i = 0;

    while (i < n) {
        size_t len = 0;
        if (!is_word_byte((unsigned char)text[i])) {
            if (sentences && in_sent && (text[i] == '.' || text[i] == '!' || text[i] == '?') &&
                (i + 1 == n || text[i + 1] == ' ' || text[i + 1] == '\n')) {
                vec_push(&m->sent_len, in_sent);
                in_sent = 0;
            }
            i++;
            continue;
        }
        while (i < n && (is_word_byte((unsigned char)text[i]) ||
                         (text[i] == '\'' && i + 1 < n && is_word_byte((unsigned char)text[i + 1])))) {
            char c = text[i++];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c + 32);
            if (len < MAX_WORD)
                w[len] = c;
            len++;
        }
        if (len <= MAX_WORD) {
            model_count(m, w, len);
            words++;
            in_sent++;
        }
    }
    return words;
}

static void model_article(struct model *m, const char *title, size_t tlen, const char *body,
                          size_t blen)
{
    uint32_t tw = model_text(m, title, tlen, 0), bw = model_text(m, body, blen, 1);

    if (bw >= 10 && tw >= 1) { /* Reuters has stubs without a body: not a length sample */
        vec_push(&m->body_len, bw);
        vec_push(&m->title_len, tw);
    }
}

/* Text between OPEN and CLOSE within [p, end), or NULL. */
static const char *between(const char *p, const char *end, const char *open, const char *close,
                           size_t *len)
{
    const char *a = strstr(p, open), *b;

    if (!a || a >= end)
        return NULL;
    a += strlen(open);
    b = strstr(a, close);
    if (!b || b > end)
        return NULL;
    *len = (size_t)(b - a);
    return a;
}

static void model_sgm(struct model *m, const char *s)
{
    const char *p = s;

    while ((p = strstr(p, "<REUTERS")) != NULL) {
        const char *end = strstr(p, "</REUTERS>"), *t, *b;
        size_t tl = 0, bl = 0;
        if (!end)
            break;
        t = between(p, end, "<TITLE>", "</TITLE>", &tl);
        b = between(p, end, "<BODY>", "</BODY>", &bl);
        if (t && b)
            model_article(m, t, tl, b, bl);
        p = end + 10;
    }
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *s = NULL;
    long len;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        s = malloc((size_t)len + 1);
        if (s && fread(s, 1, (size_t)len, f) == (size_t)len) {
            s[len] = '\0';
            *n = (size_t)len;
        } else {
            free(s);
            s = NULL;
        }
    }
    fclose(f);
    return s;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read every file under PATH (sorted, so the model does not depend on readdir order). */
static int model_path(struct model *m, const char *path)
{
    struct stat st;
    size_t n;
    char *s;

    if (stat(path, &st) < 0) {
        fprintf(stderr, "gen-corpus: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char **names = NULL;
        size_t nn = 0, cap = 0;
        int rc = 0;
        if (!d) {
            fprintf(stderr, "gen-corpus: %s: %s\n", path, strerror(errno));
            return -1;
        }
        while ((e = readdir(d)) != NULL) {
            char full[4096];
            if (e->d_name[0] == '.')
                continue;
            snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
            if (nn == cap) {
                char **x = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*x));
                if (!x)
                    die_oom();
                names = x;
            }
            if (!(names[nn++] = strdup(full)))
                die_oom();
        }
        closedir(d);
        qsort(names, nn, sizeof(*names), cmp_name);
        for (size_t i = 0; i < nn; i++) {
            if (rc == 0)
                rc = model_path(m, names[i]);
            free(names[i]);
        }
        free(names);
        return rc;
    }
    if (!S_ISREG(st.st_mode))
        return 0;
    if (!(s = slurp(path, &n))) {
        fprintf(stderr, "gen-corpus: %s: cannot read\n", path);
        return -1;
    }
    n = strlen(s); /* stop at a stray NUL */
    if (n > 4 && !strcmp(path + strlen(path) - 4, ".sgm")) {
        model_sgm(m, s);
    } else {
        const char *nl = memchr(s, '\n', n);
        if (nl)
            model_article(m, s, (size_t)(nl - s), nl + 1, n - (size_t)(nl + 1 - s));
    }
    free(s);
    return 0;
}

/* Pseudo-word K: 1-4 syllables chosen by a hash of K (distinct enough for a vocabulary). */
static size_t pseudo_word(uint64_t k, char *out)
{
    static const char *const on[] = {"b",  "c",  "d",  "f",  "g",  "h",  "j",  "k",
                                     "l",  "m",  "n",  "p",  "r",  "s",  "t",  "v",
                                     "w",  "z",  "br", "ch", "cr", "dr", "fl", "gr",
                                     "kl", "pr", "sh", "st", "th", "tr", "",   "sp"};
    static const char *const nu[] = {"a", "e", "i", "o", "u", "ai", "ea", "ou"};
    static const char *const co[] = {"",  "",  "",  "n", "r", "s", "l", "m",
                                     "t", "nd", "st", "x", "ng", "rk", "", ""};
    uint64_t h = k * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
    unsigned nsyl;
    size_t n = 0;

    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    nsyl = 1 + (unsigned)(h & 3) % 3;
    h >>= 2;
    if (k >= 1000)
        nsyl += 1;
    for (unsigned i = 0; i < nsyl; i++) {
        const char *a = on[h & 31], *b = nu[(h >> 5) & 7], *c = co[(h >> 8) & 15];
        h = (h >> 12) | ((h & 0xfff) << 52);
        h *= 0x94d049bb133111ebull;
        h ^= h >> 31;
        for (; *a; a++)
            out[n++] = *a;
        for (; *b; b++)
            out[n++] = *b;
        for (; *c; c++)
            out[n++] = *c;
    }
    return n;
}

static void model_builtin(struct model *m, struct rng *r)
{
    char w[64];

    for (uint32_t k = 0; k < BUILTIN_WORDS; k++) {
        size_t before = m->nwords;
        model_count(m, w, pseudo_word(k + 7919u * 1000003u, w));
        if (m->nwords > before) /* Zipf s = 1: count proportional to 1 / rank */
            m->count[m->nwords - 1] = (uint64_t)(1e9 / (k + 1.0)) + 1;
    }
    for (int i = 0; i < 5000; i++) {
        /* log-normal body lengths, median 300 words; titles 4-14 words; sentences 8-35 */
        double u1 = rng_unit(r) + 1e-12, u2 = rng_unit(r);
        double z = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
        double len = exp(log(300.0) + 0.6 * z);
        vec_push(&m->body_len, (uint32_t)(len < 10 ? 10 : len > 5000 ? 5000 : len));
        vec_push(&m->title_len, 4 + rng_below(r, 11));
        vec_push(&m->sent_len, 8 + rng_below(r, 28));
    }
}

/* Vose's alias method over the word counts. */
static void model_alias(struct model *m)
{
    size_t n = m->nwords, ns = 0, nl = 0;
    uint32_t *small = malloc(n * sizeof(*small)), *large = malloc(n * sizeof(*large));
    double total = 0;

    m->prob = malloc(n * sizeof(*m->prob));
    m->alias = malloc(n * sizeof(*m->alias));
    if (!small || !large || !m->prob || !m->alias)
        die_oom();
    for (size_t i = 0; i < n; i++)
        total += (double)m->count[i];
    for (size_t i = 0; i < n; i++) {
        m->prob[i] = (double)m->count[i] * (double)n / total;
        m->alias[i] = (uint32_t)i;
        if (m->prob[i] < 1.0)
            small[ns++] = (uint32_t)i;
        else
            large[nl++] = (uint32_t)i;
    }
    while (ns && nl) {
        uint32_t s = small[--ns], l = large[--nl];
        m->alias[s] = l;
        m->prob[l] -= 1.0 - m->prob[s];
        if (m->prob[l] < 1.0)
            small[ns++] = l;
        else
            large[nl++] = l;
    }
    while (nl)
        m->prob[large[--nl]] = 1.0;
    while (ns)
        m->prob[small[--ns]] = 1.0;
    free(small);
    free(large);
}

static uint32_t model_word(const struct model *m, struct rng *r)
{
    uint32_t i = rng_below(r, (uint32_t)m->nwords);

    return rng_unit(r) < m->prob[i] ? i : m->alias[i];
}

/* ---- output ----------------------------------------------------------------------------- */

struct out {
    char *p;
    size_t len, cap;
};

static void out_need(struct out *o, size_t n)
{
    if (o->len + n > o->cap) {
        if (o->len && fwrite(o->p, 1, o->len, stdout) != o->len) {
            fprintf(stderr, "gen-corpus: write failed: %s\n", strerror(errno));
            exit(1);
        }
        o->len = 0;
        if (n > o->cap) {
            char *p = realloc(o->p, n);
            if (!p)
                die_oom();
            o->p = p;
            o->cap = n;
        }
    }
}

static void out_str(struct out *o, const char *s, size_t n)
{
    out_need(o, n);
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

/* Emit one word (model index or tail) to O, capitalized when CAP. */
static void emit_word(struct out *o, const struct model *m, struct rng *r, const uint32_t *topic,
                      int cap)
{
    char buf[96];
    const char *w;
    size_t n;
    uint32_t x = rng_below(r, 1000);

    if (x < TAIL_PERMILLE) {
        /* log-uniform rank in [1, TAIL_WORDS]: a Zipf (s = 1) tail */
        uint64_t k = (uint64_t)exp(rng_unit(r) * log((double)TAIL_WORDS));
        n = pseudo_word(k + 0x5eedull * 1000003u, buf);
        w = buf;
    } else {
        uint32_t i = x < TAIL_PERMILLE + TOPIC_PERMILLE ? topic[rng_below(r, TOPIC_WORDS)]
                                                        : model_word(m, r);
        w = m->arena + m->word_off[i];
        n = strlen(w);
    }
    out_need(o, n + 1);
    memcpy(o->p + o->len, w, n);
    if (cap && o->p[o->len] >= 'a' && o->p[o->len] <= 'z')
        o->p[o->len] = (char)(o->p[o->len] - 32);
    o->len += n;
}

static const char *const sources[] = {
    "Daily Ledger",      "Northern Courier",  "Harbour Times",    "Metro Wire",
    "Evening Standard Post", "Capital Dispatch", "Valley Herald",  "Coastal Gazette",
    "Morning Bulletin",  "Global Newsdesk",   "River City Press", "Summit Journal",
    "Prairie Observer",  "Island Chronicle",  "Union Report",     "Lakeside Review",
    "Frontier Telegraph", "Harbor Business",  "Civic Monitor",    "Tech Weekly",
    "Market Watchers",   "Sports Today",      "Culture Desk",     "World Briefing"};

static void emit_article(struct out *o, const struct model *m, struct rng *r, uint64_t i,
                         uint64_t count)
{
    uint32_t topic[TOPIC_WORDS];
    uint32_t tw, bw, sent, in_par = 0;
    const double start = 1546300800.0, span = 5 * 365.25 * 86400.0; /* 2019-01-01 */
    double t = start + span * ((double)i / (double)count) + (rng_unit(r) - 0.5) * 4 * 86400.0;
    time_t tt = (time_t)t;
    struct tm tm;
    char head[160];
    double su = rng_unit(r);
    size_t src = (size_t)(su * su * (double)(sizeof(sources) / sizeof(sources[0])));
    int n;

    for (unsigned k = 0; k < TOPIC_WORDS; k++)
        topic[k] = model_word(m, r);
    tw = m->title_len.v[rng_below(r, (uint32_t)m->title_len.n)];
    bw = m->body_len.v[rng_below(r, (uint32_t)m->body_len.n)];
    bw = bw * (90 + rng_below(r, 21)) / 100 + 1; /* +-10% so lengths are not all model values */
    gmtime_r(&tt, &tm);
    n = snprintf(head, sizeof(head), "{\"id\":\"gen-%08llu\",\"source\":\"%s\",\"timestamp\":\"",
                 (unsigned long long)i, sources[src]);
    out_str(o, head, (size_t)n);
    n = (int)strftime(head, sizeof(head), "%Y-%m-%dT%H:%M:%SZ\",\"title\":\"", &tm);
    out_str(o, head, (size_t)n);
    for (uint32_t k = 0; k < tw; k++) {
        if (k)
            out_str(o, " ", 1);
        emit_word(o, m, r, topic, 1);
    }
    out_str(o, "\",\"body\":\"", 10);
    sent = m->sent_len.v[rng_below(r, (uint32_t)m->sent_len.n)];
    for (uint32_t k = 0, in_sent = 0; k < bw; k++) {
        if (in_sent)
            out_str(o, " ", 1);
        emit_word(o, m, r, topic, in_sent == 0);
        if (++in_sent >= sent || k + 1 == bw) {
            out_str(o, ".", 1);
            in_sent = 0;
            sent = m->sent_len.v[rng_below(r, (uint32_t)m->sent_len.n)];
            if (k + 1 < bw) {
                if (++in_par >= 3 + rng_below(r, 3)) {
                    out_str(o, "\\n\\n", 4);
                    in_par = 0;
                } else {
                    out_str(o, " ", 1);
                }
            }
        }
    }
    out_str(o, "\"}\n", 3);
}

static void usage(void)
{
    fprintf(stderr, "usage: gen-corpus --seed N --articles COUNT [--model DIR]... > out.jsonl\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct model m;
    struct rng r;
    struct out o = {NULL, 0, 0};
    uint64_t seed = 1, count = 0;
    int have_count = 0, nmodel = 0;
    char *end;

    memset(&m, 0, sizeof(m));
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], &end, 10);
            if (*end)
                usage();
        } else if (!strcmp(argv[i], "--articles") && i + 1 < argc) {
            count = strtoull(argv[++i], &end, 10);
            if (*end)
                usage();
            have_count = 1;
        } else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            if (model_path(&m, argv[++i]) != 0)
                return 1;
            nmodel++;
        } else {
            usage();
        }
    }
    if (!have_count)
        usage();
    rng_seed(&r, seed);
    if (nmodel == 0 || m.body_len.n == 0 || m.sent_len.n == 0) {
        if (nmodel)
            fprintf(stderr, "gen-corpus: no articles under --model; using the built-in model\n");
        model_builtin(&m, &r);
    }
    model_alias(&m);
    o.cap = 1 << 20;
    if (!(o.p = malloc(o.cap)))
        die_oom();
    for (uint64_t i = 0; i < count; i++)
        emit_article(&o, &m, &r, i, count);
    out_need(&o, o.cap + 1); /* flushes */
    if (fflush(stdout) != 0) {
        fprintf(stderr, "gen-corpus: write failed: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
