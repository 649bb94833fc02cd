/* config.c - read newsidx.yaml (libyaml document API) with strict checking.
 *
 * Keys (docs/CONFIG.md has examples):
 *   index: DIR                       index directory (~ and relative paths allowed)
 *   analyzer: {language: english, diacritics: true}
 *   ranking: {k1: 1.2, b: 0.75, title_weight: 2, body_weight: 1}
 *   memory_budget: 256               MiB the writer buffers before writing a segment
 *   merge: {factor: 10}              tiered merge factor; 0 turns merging at commit off
 *   near_duplicates: {threshold: 0.8, skip: false}   see indexer/neardup.c
 *   sources:                         what `rebuild` and `add` read when given no PATH
 *     - {path: DIR, format: auto, source: NAME, teasers: false}
 * Every other key, a value of the wrong type and an out-of-range value is an error naming
 * the dotted key, the file and the line. Relative paths are relative to the file's folder.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

static const char *const key_names[FMT_CFG_NKEYS] = {
    "index",        "analyzer.language",        "analyzer.diacritics",
    "ranking.k1",   "ranking.b",                "ranking.title_weight",
    "ranking.body_weight", "memory_budget",      "merge.factor",
    "sources",      "near_duplicates.threshold", "near_duplicates.skip",
};

const char *fmt_config_key_name(enum fmt_config_key k)
{
    return (unsigned)k < FMT_CFG_NKEYS ? key_names[k] : "?";
}

void fmt_config_init(struct fmt_config *c)
{
    memset(c, 0, sizeof(*c));
    fmt_analyzer_cfg_default(&c->analyzer);
    c->k1 = 1.2;
    c->b = 0.75;
    c->title_weight = 2;
    c->body_weight = 1;
    c->memory_budget_mb = 256;
    c->merge_factor = 10;
    c->near_threshold = 0.8;
}

static void free_sources(struct fmt_config *c)
{
    for (size_t i = 0; i < c->nsources; i++) {
        free(c->sources[i].path);
        free(c->sources[i].format);
        free(c->sources[i].source);
    }
    free(c->sources);
    c->sources = NULL;
    c->nsources = 0;
}

void fmt_config_release(struct fmt_config *c)
{
    free(c->index);
    c->index = NULL;
    free_sources(c);
}

/* ---- reading ------------------------------------------------------------------------ */

struct reader {
    const char *path;
    char dir[4096];      /* the file's folder, for relative paths */
    yaml_document_t doc;
    struct fmt_config *c;
    struct fmt_err *err;
};

static unsigned line_of(const yaml_node_t *n)
{
    return (unsigned)n->start_mark.line + 1;
}

static int bad(struct reader *r, const yaml_node_t *n, const char *key, const char *what)
{
    return fmt_errorf(r->err, FMT_EINVAL, "%s:%u: %s: %s", r->path, line_of(n), key, what);
}

static const char *scalar(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int get_number(struct reader *r, const yaml_node_t *n, const char *key, double lo,
                      double hi, double *out)
{
    const char *s = scalar(n);
    char *end;
    double v;

    if (!s || !*s)
        return bad(r, n, key, "expected a number");
    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return bad(r, n, key, "expected a number");
    if (v < lo || v > hi) {
        char what[96];
        snprintf(what, sizeof(what), "%s is out of range (%g to %g)", s, lo, hi);
        return bad(r, n, key, what);
    }
    *out = v;
    return FMT_OK;
}

static int get_bool(struct reader *r, const yaml_node_t *n, const char *key, int *out)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    const char *s = scalar(n);

    for (int k = 0; s && k < 3; k++) {
        if (!strcasecmp(s, yes[k]))
            return *out = 1, FMT_OK;
        if (!strcasecmp(s, no[k]))
            return *out = 0, FMT_OK;
    }
    return bad(r, n, key, "expected true or false");
}

static int get_string(struct reader *r, const yaml_node_t *n, const char *key, const char **out)
{
    const char *s = scalar(n);

    if (!s || !*s)
        return bad(r, n, key, "expected a non-empty string");
    *out = s;
    return FMT_OK;
}

/* ~/x and relative paths: absolute copy. */
static int resolve_path(struct reader *r, const yaml_node_t *n, const char *key, char **out)
{
    const char *s = NULL, *home = getenv("HOME");
    char buf[4096];
    int len, rc = get_string(r, n, key, &s);

    if (rc != FMT_OK)
        return rc;
    if (s[0] == '/' || !strcmp(s, "-"))
        len = snprintf(buf, sizeof(buf), "%s", s);
    else if (s[0] == '~' && (s[1] == '/' || !s[1]) && home && *home)
        len = snprintf(buf, sizeof(buf), "%s%s", home, s + 1);
    else
        len = snprintf(buf, sizeof(buf), "%s/%s", r->dir, s);
    if (len < 0 || (size_t)len >= sizeof(buf))
        return bad(r, n, key, "path too long");
    free(*out);
    if (!(*out = strdup(buf)))
        return fmt_errorf(r->err, FMT_ENOMEM, "out of memory");
    return FMT_OK;
}

/* A mapping's pairs, with unknown and repeated keys rejected. FN is called per pair. */
typedef int (*pair_fn)(struct reader *r, const char *key, const yaml_node_t *k,
                       const yaml_node_t *v, void *ctx);

static int each_pair(struct reader *r, const yaml_node_t *map, const char *what,
                     pair_fn fn, void *ctx)
{
    if (map->type != YAML_MAPPING_NODE)
        return bad(r, map, what, "expected a mapping of keys");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = yaml_document_get_node(&r->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(&r->doc, p->value);
        const char *name = k ? scalar(k) : NULL;
        int rc;
        if (!name || !v)
            return bad(r, k ? k : map, what, "keys must be plain words");
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            const yaml_node_t *kq = yaml_document_get_node(&r->doc, q->key);
            if (kq && scalar(kq) && !strcmp(scalar(kq), name))
                return bad(r, k, name, "key given twice");
        }
        if ((rc = fn(r, name, k, v, ctx)) != FMT_OK)
            return rc;
    }
    return FMT_OK;
}

static int unknown(struct reader *r, const yaml_node_t *k, const char *parent, const char *name)
{
    char key[160];

    snprintf(key, sizeof(key), "%s%s%s", parent, *parent ? "." : "", name);
    return fmt_errorf(r->err, FMT_EINVAL, "%s:%u: unknown key \"%s\"", r->path, line_of(k), key);
}

static int analyzer_pair(struct reader *r, const char *key, const yaml_node_t *k,
                         const yaml_node_t *v, void *ctx)
{
    struct fmt_config *c = r->c;
    const char *s = NULL;
    int rc;

    (void)ctx;
    if (!strcmp(key, "language")) {
        struct fmt_analyzer_cfg cfg = c->analyzer;
        struct fmt_analyzer *an;
        if ((rc = get_string(r, v, "analyzer.language", &s)) != FMT_OK)
            return rc;
        if (strlen(s) >= sizeof(cfg.language))
            return bad(r, v, "analyzer.language", "unknown language");
        snprintf(cfg.language, sizeof(cfg.language), "%s", s);
        if (fmt_analyzer_new(&an, &cfg, NULL) != FMT_OK) {
            char what[96];
            snprintf(what, sizeof(what), "unknown language \"%.40s\" (a Snowball name or none)",
                     s);
            return bad(r, v, "analyzer.language", what);
        }
        fmt_analyzer_free(an);
        c->analyzer = cfg;
        c->line[FMT_CFG_LANGUAGE] = line_of(v);
        return FMT_OK;
    }
    if (!strcmp(key, "diacritics")) {
        c->line[FMT_CFG_DIACRITICS] = line_of(v);
        return get_bool(r, v, "analyzer.diacritics", &c->analyzer.fold_diacritics);
    }
    return unknown(r, k, "analyzer", key);
}

static int ranking_pair(struct reader *r, const char *key, const yaml_node_t *k,
                        const yaml_node_t *v, void *ctx)
{
    static const struct {
        const char *name;
        enum fmt_config_key id;
        double lo, hi;
    } keys[] = {
        {"k1", FMT_CFG_K1, 0, 100},
        {"b", FMT_CFG_B, 0, 1},
        {"title_weight", FMT_CFG_TITLE_WEIGHT, 0, 1000},
        {"body_weight", FMT_CFG_BODY_WEIGHT, 0, 1000},
    };
    struct fmt_config *c = r->c;
    double *dst[] = {&c->k1, &c->b, &c->title_weight, &c->body_weight};

    (void)ctx;
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(key, keys[i].name))
            continue;
        c->line[keys[i].id] = line_of(v);
        return get_number(r, v, key_names[keys[i].id], keys[i].lo, keys[i].hi, dst[i]);
    }
    return unknown(r, k, "ranking", key);
}

static int merge_pair(struct reader *r, const char *key, const yaml_node_t *k,
                      const yaml_node_t *v, void *ctx)
{
    double f;
    int rc;

    (void)ctx;
    if (strcmp(key, "factor"))
        return unknown(r, k, "merge", key);
    if ((rc = get_number(r, v, "merge.factor", 0, 1000, &f)) != FMT_OK)
        return rc;
    if (f != floor(f) || f == 1)
        return bad(r, v, "merge.factor", "expected a whole number >= 2 (or 0: no merging)");
    r->c->merge_factor = (unsigned)f;
    r->c->line[FMT_CFG_MERGE_FACTOR] = line_of(v);
    return FMT_OK;
}

static int near_pair(struct reader *r, const char *key, const yaml_node_t *k,
                     const yaml_node_t *v, void *ctx)
{
    struct fmt_config *c = r->c;

    (void)ctx;
    if (!strcmp(key, "threshold")) {
        c->line[FMT_CFG_NEAR_THRESHOLD] = line_of(v);
        return get_number(r, v, "near_duplicates.threshold", 0.5, 1, &c->near_threshold);
    }
    if (!strcmp(key, "skip")) {
        c->line[FMT_CFG_NEAR_SKIP] = line_of(v);
        return get_bool(r, v, "near_duplicates.skip", &c->near_skip);
    }
    return unknown(r, k, "near_duplicates", key);
}

static int source_pair(struct reader *r, const char *key, const yaml_node_t *k,
                       const yaml_node_t *v, void *ctx)
{
    static const char *const formats[] = {"auto", "page", "markdown", "md", "jsonl"};
    struct fmt_config_source *s = ctx;
    const char *str = NULL;
    int rc;

    if (!strcmp(key, "path"))
        return resolve_path(r, v, "sources.path", &s->path);
    if (!strcmp(key, "teasers"))
        return get_bool(r, v, "sources.teasers", &s->teasers);
    if (!strcmp(key, "source") || !strcmp(key, "format")) {
        char **dst = key[0] == 's' ? &s->source : &s->format;
        char field[32];
        snprintf(field, sizeof(field), "sources.%s", key);
        if ((rc = get_string(r, v, field, &str)) != FMT_OK)
            return rc;
        if (key[0] == 'f') {
            size_t i = 0;
            while (i < 5 && strcmp(str, formats[i]))
                i++;
            if (i == 5)
                return bad(r, v, field, "expected auto, page, markdown or jsonl");
        }
        free(*dst);
        if (!(*dst = strdup(str)))
            return fmt_errorf(r->err, FMT_ENOMEM, "out of memory");
        return FMT_OK;
    }
    return unknown(r, k, "sources", key);
}

static int read_sources(struct reader *r, const yaml_node_t *list)
{
    struct fmt_config *c = r->c;
    size_t n;

    if (list->type != YAML_SEQUENCE_NODE)
        return bad(r, list, "sources", "expected a list of {path, format, source, teasers}");
    free_sources(c);
    n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    c->sources = calloc(n ? n : 1, sizeof(*c->sources));
    if (!c->sources)
        return fmt_errorf(r->err, FMT_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item =
            yaml_document_get_node(&r->doc, list->data.sequence.items.start[i]);
        struct fmt_config_source *s = &c->sources[c->nsources++];
        int rc;
        if (!item)
            return bad(r, list, "sources", "empty entry");
        s->line = line_of(item);
        if ((rc = each_pair(r, item, "sources", source_pair, s)) != FMT_OK)
            return rc;
        if (!s->path)
            return bad(r, item, "sources", "entry has no path");
        if (!s->format && !(s->format = strdup("auto")))
            return fmt_errorf(r->err, FMT_ENOMEM, "out of memory");
    }
    return FMT_OK;
}

static int top_pair(struct reader *r, const char *key, const yaml_node_t *k,
                    const yaml_node_t *v, void *ctx)
{
    struct fmt_config *c = r->c;
    double mb;
    int rc;

    (void)ctx;
    if (!strcmp(key, "index")) {
        c->line[FMT_CFG_INDEX] = line_of(v);
        return resolve_path(r, v, "index", &c->index);
    }
    if (!strcmp(key, "analyzer"))
        return each_pair(r, v, "analyzer", analyzer_pair, NULL);
    if (!strcmp(key, "ranking"))
        return each_pair(r, v, "ranking", ranking_pair, NULL);
    if (!strcmp(key, "merge"))
        return each_pair(r, v, "merge", merge_pair, NULL);
    if (!strcmp(key, "near_duplicates"))
        return each_pair(r, v, "near_duplicates", near_pair, NULL);
    if (!strcmp(key, "sources")) {
        if ((rc = read_sources(r, v)) == FMT_OK)
            c->line[FMT_CFG_SOURCES] = line_of(k);
        return rc;
    }
    if (!strcmp(key, "memory_budget")) {
        if ((rc = get_number(r, v, "memory_budget", 1, 1048576, &mb)) != FMT_OK)
            return rc;
        c->memory_budget_mb = (size_t)mb;
        c->line[FMT_CFG_MEMORY_BUDGET] = line_of(v);
        return FMT_OK;
    }
    return unknown(r, k, "", key);
}

int fmt_config_read(const char *path, struct fmt_config *c, struct fmt_err *err)
{
    struct reader r;
    yaml_parser_t parser;
    yaml_node_t *root;
    FILE *f = fopen(path, "rb");
    const char *slash = strrchr(path, '/');
    int rc = FMT_OK;

    if (!f)
        return fmt_errorf(err, FMT_EIO, "%s: %s", path, strerror(errno));
    memset(&r, 0, sizeof(r));
    r.path = path;
    r.c = c;
    r.err = err;
    if (slash)
        snprintf(r.dir, sizeof(r.dir), "%.*s", (int)(slash > path ? slash - path : 1), path);
    else if (!getcwd(r.dir, sizeof(r.dir)))
        snprintf(r.dir, sizeof(r.dir), ".");
    snprintf(c->file, sizeof(c->file), "%s", path);
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        return fmt_errorf(err, FMT_ENOMEM, "out of memory");
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &r.doc)) {
        rc = fmt_errorf(err, FMT_EINVAL, "%s:%zu: broken YAML: %s", path,
                        parser.problem_mark.line + 1,
                        parser.problem ? parser.problem : "syntax error");
        goto out_parser;
    }
    root = yaml_document_get_root_node(&r.doc);
    if (root && !(root->type == YAML_SCALAR_NODE && !*scalar(root)))
        rc = each_pair(&r, root, "configuration", top_pair, NULL);
    yaml_document_delete(&r.doc);
out_parser:
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

static int exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

int fmt_config_load(const char *explicit_path, struct fmt_config *out, struct fmt_err *err)
{
    const char *env = getenv("NEWSIDX_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char path[4096] = "";
    int rc;

    fmt_config_init(out);
    if (explicit_path && *explicit_path)
        snprintf(path, sizeof(path), "%s", explicit_path);
    else if (env && *env)
        snprintf(path, sizeof(path), "%s", env);
    else if (exists("newsidx.yaml"))
        snprintf(path, sizeof(path), "newsidx.yaml");
    else if (xdg && *xdg)
        snprintf(path, sizeof(path), "%s/newsidx/config.yaml", xdg);
    else if (home && *home)
        snprintf(path, sizeof(path), "%s/.config/newsidx/config.yaml", home);
    if (!path[0] || (!(explicit_path && *explicit_path) && !(env && *env) && !exists(path)))
        return FMT_OK; /* no file: defaults */
    rc = fmt_config_read(path, out, err);
    if (rc != FMT_OK) {
        fmt_config_release(out);
        fmt_config_init(out);
    }
    return rc;
}
