/* config.h - newsidx.yaml: index path, analyzer, ranking, memory budget, merge policy,
 * near-duplicate detection and
 * the sources `newsidx rebuild` and `add` read when given no paths. docs/CONFIG.md is the
 * user-facing reference; the keys are listed in config.c.
 *
 * Lookup order (the first that exists is read, and only that one):
 *   1. --config FILE          (must exist)
 *   2. $NEWSIDX_CONFIG        (must exist when set and not empty)
 *   3. ./newsidx.yaml
 *   4. $XDG_CONFIG_HOME/newsidx/config.yaml, else ~/.config/newsidx/config.yaml
 * No file at all is fine: every value keeps its default. */
#ifndef FMT_CONFIG_H
#define FMT_CONFIG_H

#include <stddef.h>

#include "analyzer.h"
#include "err.h"

/* Every setting, for fmt_config.line[] (where it was set). */
enum fmt_config_key {
    FMT_CFG_INDEX = 0,
    FMT_CFG_LANGUAGE,
    FMT_CFG_DIACRITICS,
    FMT_CFG_K1,
    FMT_CFG_B,
    FMT_CFG_TITLE_WEIGHT,
    FMT_CFG_BODY_WEIGHT,
    FMT_CFG_MEMORY_BUDGET,
    FMT_CFG_MERGE_FACTOR,
    FMT_CFG_SOURCES,
    FMT_CFG_NEAR_THRESHOLD,
    FMT_CFG_NEAR_SKIP,
    FMT_CFG_NKEYS
};

struct fmt_config_source {
    char *path;        /* owned; relative paths are made relative to the config file's folder */
    char *format;      /* owned: "auto", "page", "markdown" or "jsonl" */
    char *source;      /* owned source name given to articles without one, or NULL */
    int teasers;       /* 1: index teaser lists of saved pages as their own articles */
    unsigned line;     /* line of the entry in the file */
};

struct fmt_config {
    char file[4096];                  /* the file read, "" when none was found */
    char *index;                      /* owned index directory, NULL when not configured */
    struct fmt_analyzer_cfg analyzer; /* english, diacritics folded */
    double k1;                        /* BM25 k1, 1.2 */
    double b;                         /* BM25 b, 0.75 */
    double title_weight;              /* BM25F title weight, 2 */
    double body_weight;               /* BM25F body weight, 1 */
    size_t memory_budget_mb;          /* writer's builder budget in MiB, 256 */
    unsigned merge_factor;            /* tiered merge factor, 10; 0 = never merge at commit */
    double near_threshold;            /* near-duplicate Jaccard threshold, 0.8 (0.5 to 1) */
    int near_skip;                    /* 1: add skips near-duplicates (default 0: counts) */
    struct fmt_config_source *sources; /* owned array */
    size_t nsources;
    unsigned line[FMT_CFG_NKEYS];     /* 1-based line in file that set each key, 0: default */
};

/* Defaults, no file. */
void fmt_config_init(struct fmt_config *c);
void fmt_config_release(struct fmt_config *c);

/* Find the file by the lookup order above (EXPLICIT_PATH is --config or NULL) and read it
 * into *OUT over the defaults. FMT_OK (also when no file exists: out->file is ""),
 * FMT_EINVAL (unknown key, wrong type, bad value, broken YAML: the message names the key,
 * the file and the line), FMT_EIO (an explicit or $NEWSIDX_CONFIG file that cannot be
 * read), FMT_ENOMEM. On failure *OUT holds the defaults (release it either way). */
int fmt_config_load(const char *explicit_path, struct fmt_config *out, struct fmt_err *err);

/* Read PATH into *C over whatever C holds (after fmt_config_init). Same codes. */
int fmt_config_read(const char *path, struct fmt_config *c, struct fmt_err *err);

/* Dotted name of a key ("ranking.k1"). Static string. */
const char *fmt_config_key_name(enum fmt_config_key k);

#endif
