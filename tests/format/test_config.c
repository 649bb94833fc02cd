/* test_config.c - newsidx.yaml: every key with its line, defaults, relative and ~ paths,
 * the lookup order, and errors naming key, file and line (unknown key, wrong type, bad
 * value, unknown language or format, repeated key, broken YAML). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

struct fx {
    char dir[64];
    char old_cwd[4096];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/nx-config-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_non_null(getcwd(f->old_cwd, sizeof(f->old_cwd)));
    assert_int_equal(chdir(f->dir), 0);
    setenv("NEWSIDX_CONFIG", "", 1);
    setenv("XDG_CONFIG_HOME", f->dir, 1);
    setenv("HOME", f->dir, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[256];

    assert_int_equal(chdir(f->old_cwd), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_config_defaults_without_file(void **state)
{
    struct fmt_config c;

    (void)state;
    assert_int_equal(fmt_config_load(NULL, &c, NULL), FMT_OK);
    assert_string_equal(c.file, "");
    assert_null(c.index);
    assert_string_equal(c.analyzer.language, "english");
    assert_int_equal(c.analyzer.fold_diacritics, 1);
    assert_true(c.k1 == 1.2 && c.b == 0.75 && c.title_weight == 2 && c.body_weight == 1);
    assert_int_equal(c.memory_budget_mb, 256);
    assert_int_equal(c.merge_factor, 10);
    assert_int_equal(c.nsources, 0);
    for (int k = 0; k < FMT_CFG_NKEYS; k++)
        assert_int_equal(c.line[k], 0);
    fmt_config_release(&c);
}

static void test_config_reads_every_key_with_its_line(void **state)
{
    struct fx *f = *state;
    struct fmt_config c;
    char want[256];

    write_file("newsidx.yaml", "# nightly\n"
                               "index: data/idx\n"
                               "analyzer:\n"
                               "  language: french\n"
                               "  diacritics: no\n"
                               "ranking:\n"
                               "  k1: 0.9\n"
                               "  b: 0.4\n"
                               "  title_weight: 3\n"
                               "  body_weight: 1.5\n"
                               "memory_budget: 64\n"
                               "merge:\n"
                               "  factor: 4\n"
                               "sources:\n"
                               "  - path: ~/bbc\n"
                               "    format: page\n"
                               "    source: BBC News\n"
                               "    teasers: true\n"
                               "  - {path: /srv/wire.jsonl}\n");
    assert_int_equal(fmt_config_load(NULL, &c, NULL), FMT_OK);
    assert_string_equal(c.file, "newsidx.yaml");
    snprintf(want, sizeof(want), "%s/data/idx", f->dir);
    assert_string_equal(c.index, want);
    assert_int_equal(c.line[FMT_CFG_INDEX], 2);
    assert_string_equal(c.analyzer.language, "french");
    assert_int_equal(c.line[FMT_CFG_LANGUAGE], 4);
    assert_int_equal(c.analyzer.fold_diacritics, 0);
    assert_int_equal(c.line[FMT_CFG_DIACRITICS], 5);
    assert_true(c.k1 == 0.9 && c.b == 0.4 && c.title_weight == 3 && c.body_weight == 1.5);
    assert_int_equal(c.line[FMT_CFG_BODY_WEIGHT], 10);
    assert_int_equal(c.memory_budget_mb, 64);
    assert_int_equal(c.merge_factor, 4);
    assert_int_equal(c.line[FMT_CFG_MERGE_FACTOR], 13);
    assert_int_equal(c.nsources, 2);
    assert_int_equal(c.line[FMT_CFG_SOURCES], 14);
    snprintf(want, sizeof(want), "%s/bbc", f->dir); /* HOME is the temp dir */
    assert_string_equal(c.sources[0].path, want);
    assert_string_equal(c.sources[0].format, "page");
    assert_string_equal(c.sources[0].source, "BBC News");
    assert_int_equal(c.sources[0].teasers, 1);
    assert_int_equal(c.sources[0].line, 15);
    assert_string_equal(c.sources[1].path, "/srv/wire.jsonl");
    assert_string_equal(c.sources[1].format, "auto");
    assert_null(c.sources[1].source);
    fmt_config_release(&c);
}

static void test_config_lookup_order(void **state)
{
    struct fx *f = *state;
    struct fmt_config c;
    char xdg[128], env[128], expl[128];

    snprintf(xdg, sizeof(xdg), "%s/newsidx", f->dir);
    assert_int_equal(mkdir(xdg, 0755), 0);
    snprintf(xdg, sizeof(xdg), "%s/newsidx/config.yaml", f->dir);
    snprintf(env, sizeof(env), "%s/env.yaml", f->dir);
    snprintf(expl, sizeof(expl), "%s/explicit.yaml", f->dir);
    write_file(xdg, "memory_budget: 1\n");
    write_file(env, "memory_budget: 3\n");
    write_file(expl, "memory_budget: 4\n");

    assert_int_equal(fmt_config_load(NULL, &c, NULL), FMT_OK);
    assert_int_equal(c.memory_budget_mb, 1); /* $XDG_CONFIG_HOME/newsidx/config.yaml */
    fmt_config_release(&c);
    write_file("newsidx.yaml", "memory_budget: 2\n");
    assert_int_equal(fmt_config_load(NULL, &c, NULL), FMT_OK);
    assert_int_equal(c.memory_budget_mb, 2); /* ./newsidx.yaml beats XDG */
    fmt_config_release(&c);
    setenv("NEWSIDX_CONFIG", env, 1);
    assert_int_equal(fmt_config_load(NULL, &c, NULL), FMT_OK);
    assert_int_equal(c.memory_budget_mb, 3); /* $NEWSIDX_CONFIG beats ./newsidx.yaml */
    fmt_config_release(&c);
    assert_int_equal(fmt_config_load(expl, &c, NULL), FMT_OK);
    assert_int_equal(c.memory_budget_mb, 4); /* --config beats everything */
    fmt_config_release(&c);
    assert_int_equal(fmt_config_load("/nonexistent/x.yaml", &c, NULL), FMT_EIO);
    fmt_config_release(&c);
    unsetenv("XDG_CONFIG_HOME");
    setenv("NEWSIDX_CONFIG", "", 1);
    assert_int_equal(unlink("newsidx.yaml"), 0);
    assert_int_equal(rename(xdg, env), 0); /* no XDG: ~/.config/newsidx/config.yaml */
    snprintf(xdg, sizeof(xdg), "%s/.config", f->dir);
    assert_int_equal(mkdir(xdg, 0755), 0);
    snprintf(xdg, sizeof(xdg), "%s/.config/newsidx", f->dir);
    assert_int_equal(mkdir(xdg, 0755), 0);
    snprintf(xdg, sizeof(xdg), "%s/.config/newsidx/config.yaml", f->dir);
    write_file(xdg, "memory_budget: 5\n");
    assert_int_equal(fmt_config_load(NULL, &c, NULL), FMT_OK);
    assert_int_equal(c.memory_budget_mb, 5);
    fmt_config_release(&c);
}

static void test_config_errors_name_key_file_and_line(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"index: x\nrankng:\n  k1: 1\n", "bad.yaml:2: unknown key \"rankng\""},
        {"ranking:\n  k1: 1\n  kl: 2\n", "bad.yaml:3: unknown key \"ranking.kl\""},
        {"ranking:\n  k1: fast\n", "bad.yaml:2: ranking.k1: expected a number"},
        {"ranking:\n  b: 1.5\n", "bad.yaml:2: ranking.b: 1.5 is out of range (0 to 1)"},
        {"ranking:\n  title_weight: -1\n", "bad.yaml:2: ranking.title_weight: -1 is out"},
        {"ranking: 3\n", "bad.yaml:1: ranking: expected a mapping"},
        {"memory_budget: 0\n", "bad.yaml:1: memory_budget: 0 is out of range"},
        {"memory_budget: [1]\n", "bad.yaml:1: memory_budget: expected a number"},
        {"merge:\n  factor: 1\n", "bad.yaml:2: merge.factor: expected a whole number"},
        {"merge:\n  factor: 2.5\n", "bad.yaml:2: merge.factor: expected a whole number"},
        {"analyzer:\n  language: klingon\n", "bad.yaml:2: analyzer.language: unknown language"},
        {"analyzer:\n  diacritics: maybe\n", "bad.yaml:2: analyzer.diacritics: expected true"},
        {"sources:\n  - path: a\n    format: pdf\n", "bad.yaml:3: sources.format: expected auto"},
        {"sources:\n  - format: page\n", "bad.yaml:2: sources: entry has no path"},
        {"sources:\n  - path: a\n    colour: red\n", "bad.yaml:3: unknown key \"sources.colour\""},
        {"sources: /srv\n", "bad.yaml:1: sources: expected a list"},
        {"index: a\nindex: b\n", "bad.yaml:2: index: key given twice"},
        {"index: [\n", "bad.yaml:2: broken YAML"},
        {"- a\n- b\n", "bad.yaml:1: configuration: expected a mapping"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fmt_config c;
        struct fmt_err err = {0, ""};
        write_file("bad.yaml", cases[i].text);
        assert_int_equal(fmt_config_load("bad.yaml", &c, &err), FMT_EINVAL);
        if (strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)))
            fail_msg("case %zu: got \"%s\", want \"%s...\"", i, err.msg, cases[i].msg);
        /* a failed load leaves the defaults */
        assert_int_equal(c.memory_budget_mb, 256);
        fmt_config_release(&c);
    }
}

static void test_config_empty_file_is_defaults(void **state)
{
    struct fmt_config c;

    (void)state;
    write_file("empty.yaml", "# nothing yet\n");
    assert_int_equal(fmt_config_load("empty.yaml", &c, NULL), FMT_OK);
    assert_int_equal(c.merge_factor, 10);
    assert_string_equal(fmt_config_key_name(FMT_CFG_K1), "ranking.k1");
    fmt_config_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_defaults_without_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_reads_every_key_with_its_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_config_lookup_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_errors_name_key_file_and_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_config_empty_file_is_defaults, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
