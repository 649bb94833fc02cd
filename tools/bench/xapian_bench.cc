/* xapian_bench.cc - the Xapian 1.4 side of the benchmark (tools/bench/run.sh), the
 * counterpart of fts5_bench.c. Built with g++ by run.sh.
 *
 *   xapian_bench build DB FILE.jsonl...   index the articles into a new database DB
 *   xapian_bench query DB N QUERY         one query (Xapian QueryParser syntax, the fourth
 *                                         column of queries.tsv), top N printed with the
 *                                         stored title, source, date and id
 *   xapian_bench inproc DB QUERIES ITER   every query ITER times after a warm-up: per-type
 *                                         median/p95/p99 in microseconds
 *   xapian_bench version                  the Xapian library version
 *
 * Indexing: Xapian::TermGenerator with the English (Snowball) stemmer, STEM_ALL (every term
 * stemmed, positions on the stemmed terms: what newsidx and FTS5's porter tokenizer index),
 * positions on. The title is indexed twice: unprefixed with wdf increment 2 (title weight 2,
 * as newsidx's BM25F title boost and FTS5's bm25(docs, 2.0, 1.0)) and with prefix "S" for
 * title: queries; the body once, unprefixed, after a position gap. Document data holds
 * "title\tsource\ttimestamp\tid" (newsidx and FTS5 store these too); value slot 0 holds the
 * date as YYYYMMDD for date ranges. One transaction, then the default flush at close.
 *
 * Querying: Xapian::QueryParser, English stemmer, STEM_ALL, default operator AND, flags
 * FLAG_DEFAULT | FLAG_WILDCARD, "title:" mapped to prefix "S", a RangeProcessor on slot 0
 * ("19870301..19870415"); Xapian::BM25Weight with its defaults (k1 1, b 0.5, ...); top 10
 * through Enquire::get_mset(0, 10) (Xapian's own matcher, with its max-weight pruning).
 *
 * inproc prints, tab-separated (as fts5_bench):
 *   Q <n> <matches>                               matches of query n (exact count)
 *   T <type> <p50_us> <p95_us> <p99_us> <samples>  per query type
 * Exit status: 0; query: 1 when nothing matched; 2 usage; 3 Xapian or input errors. */
#include <xapian.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "benchutil.h"
#include "err.h"
#include "json.h"
}

namespace {

struct article {
    std::string f[5]; /* title, body, id, source, timestamp */
};

const char *const field_names[5] = {"title", "body", "id", "source", "timestamp"};

int on_member(void *ctx, const char *key, size_t klen, const struct fmt_json_value *v)
{
    article *a = static_cast<article *>(ctx);

    if (v->type != FMT_JSON_STRING)
        return 0;
    for (int i = 0; i < 5; i++)
        if (std::strlen(field_names[i]) == klen && !std::memcmp(key, field_names[i], klen))
            a->f[i].assign(v->s, v->len);
    return 0;
}

/* "1987-03-01T..." -> "19870301"; "" when there is no date. */
std::string yyyymmdd(const std::string &ts)
{
    if (ts.size() < 10)
        return std::string();
    return ts.substr(0, 4) + ts.substr(5, 2) + ts.substr(8, 2);
}

int cmd_build(const char *dbpath, int nfiles, char **files)
{
    Xapian::WritableDatabase db(dbpath, Xapian::DB_CREATE_OR_OVERWRITE);
    Xapian::TermGenerator tg;
    size_t count = 0;

    tg.set_stemmer(Xapian::Stem("english"));
    tg.set_stemming_strategy(Xapian::TermGenerator::STEM_ALL);
    db.begin_transaction(false);
    for (int k = 0; k < nfiles; k++) {
        FILE *f = std::fopen(files[k], "r");
        char *line = NULL;
        size_t cap = 0, lineno = 0;
        ssize_t len;
        if (!f) {
            std::perror(files[k]);
            return 3;
        }
        while ((len = getline(&line, &cap, f)) >= 0) {
            article a;
            struct fmt_err err;
            lineno++;
            if (len <= 1)
                continue;
            if (fmt_json_parse_object(line, (size_t)len, on_member, &a, NULL, &err) != FMT_OK) {
                std::fprintf(stderr, "xapian_bench: %s:%zu: %s\n", files[k], lineno, err.msg);
                std::free(line);
                std::fclose(f);
                return 3;
            }
            Xapian::Document doc;
            tg.set_document(doc);
            tg.index_text(a.f[0], 2);
            tg.index_text(a.f[0], 1, "S");
            tg.increase_termpos();
            tg.index_text(a.f[1]);
            doc.set_data(a.f[0] + "\t" + a.f[3] + "\t" + a.f[4] + "\t" + a.f[2]);
            std::string d = yyyymmdd(a.f[4]);
            if (!d.empty())
                doc.add_value(0, d);
            db.add_document(doc);
            count++;
        }
        std::free(line);
        std::fclose(f);
    }
    db.commit_transaction();
    db.close();
    std::printf("docs\t%zu\n", count);
    return 0;
}

/* A QueryParser set up as described at the top; owns its range processor. */
struct parser {
    Xapian::QueryParser qp;
    Xapian::RangeProcessor rp;

    explicit parser(const Xapian::Database &db) : rp(0)
    {
        qp.set_database(db);
        qp.set_stemmer(Xapian::Stem("english"));
        qp.set_stemming_strategy(Xapian::QueryParser::STEM_ALL);
        qp.set_default_op(Xapian::Query::OP_AND);
        qp.add_prefix("title", "S");
        qp.add_rangeprocessor(&rp);
    }
    Xapian::Query parse(const std::string &q)
    {
        return qp.parse_query(q, Xapian::QueryParser::FLAG_DEFAULT |
                                     Xapian::QueryParser::FLAG_WILDCARD);
    }
};

int cmd_query(const char *dbpath, const char *nstr, const char *query)
{
    char *end;
    long n = std::strtol(nstr, &end, 10);

    if (*end || n < 1) {
        std::fputs("xapian_bench: N must be a positive number\n", stderr);
        return 2;
    }
    Xapian::Database db(dbpath);
    parser p(db);
    Xapian::Enquire enq(db);
    enq.set_weighting_scheme(Xapian::BM25Weight());
    enq.set_query(p.parse(query));
    Xapian::MSet ms = enq.get_mset(0, (Xapian::doccount)n);
    int rank = 0;
    for (Xapian::MSetIterator it = ms.begin(); it != ms.end(); ++it) {
        std::string data = it.get_document().get_data();
        std::vector<std::string> f;
        size_t s = 0, t;
        while ((t = data.find('\t', s)) != std::string::npos) {
            f.push_back(data.substr(s, t - s));
            s = t + 1;
        }
        f.push_back(data.substr(s));
        f.resize(4);
        std::printf("%d. %.3f  %s  %s  %s  [%s]\n", ++rank, it.get_weight(),
                    f[2].empty() ? "-" : f[2].c_str(), f[1].c_str(), f[0].c_str(),
                    f[3].c_str());
    }
    if (std::fflush(stdout) != 0)
        return 3;
    return rank ? 0 : 1;
}

int cmd_inproc(const char *dbpath, const char *qpath, const char *iterstr)
{
    char *end;
    long iter = std::strtol(iterstr, &end, 10);
    struct bench_queries qs;

    if (*end || iter < 1) {
        std::fputs("xapian_bench: ITER must be a positive number\n", stderr);
        return 2;
    }
    if (bench_queries_load(&qs, qpath) != 0)
        return 2;
    std::vector<bench_samples> per(qs.ntypes, bench_samples());
    int status = 0;
    try {
        Xapian::Database db(dbpath);
        parser p(db);
        Xapian::Enquire enq(db);
        enq.set_weighting_scheme(Xapian::BM25Weight());
        for (size_t i = 0; i < qs.n; i++) { /* warm-up and exact match counts */
            const char *q = qs.q[i].xapian ? qs.q[i].xapian : qs.q[i].text;
            enq.set_query(p.parse(q));
            Xapian::MSet ms = enq.get_mset(0, 10, db.get_doccount());
            std::printf("Q\t%zu\t%lu\n", i + 1, (unsigned long)ms.get_matches_estimated());
            enq.get_mset(0, 10);
        }
        for (long r = 0; r < iter; r++)
            for (size_t i = 0; i < qs.n; i++) {
                const char *q = qs.q[i].xapian ? qs.q[i].xapian : qs.q[i].text;
                uint64_t t0 = bench_now_ns();
                enq.set_query(p.parse(q));
                Xapian::MSet ms = enq.get_mset(0, 10);
                volatile Xapian::docid first = ms.empty() ? 0 : *ms.begin();
                (void)first;
                if (bench_samples_add(&per[qs.q[i].type_idx],
                                      (double)(bench_now_ns() - t0) / 1e3) != 0)
                    throw std::bad_alloc();
            }
        for (size_t t = 0; t < qs.ntypes; t++) {
            double p50 = bench_median(&per[t]);
            std::printf("T\t%s\t%.1f\t%.1f\t%.1f\t%zu\n", qs.types[t], p50,
                        bench_percentile(&per[t], 95), bench_percentile(&per[t], 99), per[t].n);
        }
    } catch (const Xapian::Error &e) {
        std::fprintf(stderr, "xapian_bench: %s\n", e.get_description().c_str());
        status = 3;
    }
    for (size_t t = 0; t < qs.ntypes; t++)
        bench_samples_release(&per[t]);
    bench_queries_release(&qs);
    if (std::fflush(stdout) != 0 && !status)
        status = 3;
    return status;
}

int usage()
{
    std::fputs("usage: xapian_bench build DB FILE.jsonl...\n"
               "       xapian_bench query DB N QUERY\n"
               "       xapian_bench inproc DB QUERIES ITER\n"
               "       xapian_bench version\n",
               stderr);
    return 2;
}

} // namespace

int main(int argc, char **argv)
{
    try {
        if (argc >= 4 && !std::strcmp(argv[1], "build"))
            return cmd_build(argv[2], argc - 3, argv + 3);
        if (argc == 5 && !std::strcmp(argv[1], "query"))
            return cmd_query(argv[2], argv[3], argv[4]);
        if (argc == 5 && !std::strcmp(argv[1], "inproc"))
            return cmd_inproc(argv[2], argv[3], argv[4]);
        if (argc == 2 && !std::strcmp(argv[1], "version")) {
            std::puts(Xapian::version_string());
            return 0;
        }
    } catch (const Xapian::Error &e) {
        std::fprintf(stderr, "xapian_bench: %s\n", e.get_description().c_str());
        return 3;
    }
    return usage();
}
