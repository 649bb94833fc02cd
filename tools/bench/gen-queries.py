#!/usr/bin/env python3
"""gen-queries.py - derive tools/bench/queries.tsv from the corpus vocabulary (deterministic).

    python3 tools/bench/gen-queries.py reuters.jsonl bbc.jsonl > tools/bench/queries.tsv

(the JSON Lines files that tools/bench/run.sh prepares from Reuters-21578 and BBC). The
output is committed; run.sh only reads it. Same input, same output: every choice is made
from counts sorted by (count, word), never at random.

Each line: TYPE<TAB>newsq query<TAB>FTS5 MATCH text<TAB>Xapian QueryParser text. The FTS5
text of a date query ends in " @ts LO HI": fts5_bench adds "AND ts >= LO AND ts < HI" to
its SQL (FTS5 has no date syntax). Xapian dates are YYYYMMDD ranges on value slot 0.
Types, 30 queries each:
  word_rare (df 5-60), word_medium (df 200-1000), word_frequent (df >= 1500, with "the"),
  and2, and3 (words of one title: they co-occur), or2, phrase (2-4 words: the most common
  bigrams such as "of the", named bigrams such as "prime minister", trigrams, 4-grams),
  title (title:word), prefix (word*, at most 150 vocabulary words each), date (a word and
  a 1-3 month range of 1987; run.sh maps 1987 to 2020 for the generated 1M corpus).
Words are letters only, 3+ letters, df counted over title+body, lower-cased.
"""
import json
import re
import sys
from collections import Counter

WORD = re.compile(r"[a-z]+")
STOP = set("""a about after all also an and are as at be been but by can could did do
for from had has have he her his if in into is it its more most new no not of on one
or our out over said says she so than that the their them there these they this to
two up was we were what when which who will with would year years you mln pct dlrs
reuter cts shr net vs inc corp ltd co""".split())
N = 30


def words(s):
    return WORD.findall(s.lower())


def pick(cands, n):
    """n items spread evenly over the sorted list cands."""
    if len(cands) <= n:
        return list(cands)
    return [cands[(i * len(cands)) // n] for i in range(n)]


def main(paths):
    df = Counter()
    title_df = Counter()
    bi = Counter()
    tri = Counter()
    quad = Counter()
    titles = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                a = json.loads(line)
                tw = words(a.get("title", ""))
                bw = words(a.get("body", ""))
                df.update(set(tw) | set(bw))
                title_df.update(set(tw))
                if a.get("timestamp"):
                    titles.append(tw)
                for i in range(len(bw) - 1):
                    bi[(bw[i], bw[i + 1])] += 1
                    if i + 2 < len(bw):
                        tri[(bw[i], bw[i + 1], bw[i + 2])] += 1
                    if i + 3 < len(bw):
                        quad[(bw[i], bw[i + 1], bw[i + 2], bw[i + 3])] += 1
    vocab = sorted(w for w in df if len(w) >= 3)

    def band(lo, hi, stop_ok=False):
        c = [w for w in vocab if lo <= df[w] <= hi and (stop_ok or w not in STOP) and len(w) >= 4]
        return sorted(c, key=lambda w: (df[w], w))

    out = []

    def add(typ, nq, fts, xap):
        out.append("\t".join((typ, nq, fts, xap)))

    q = lambda w: '"%s"' % w
    for typ, lo, hi in (("word_rare", 5, 60), ("word_medium", 200, 1000)):
        for w in pick(band(lo, hi), N):
            add(typ, w, q(w), w)
    freq = ["the"] + [w for w in pick(band(1500, 10 ** 9, True), N + 5) if w != "the"][: N - 1]
    for w in freq:
        add("word_frequent", w, q(w), w)

    # co-occurring words: content words of dated titles, every k-th title
    def content(tw):
        seen = []
        for w in tw:
            if len(w) >= 4 and w not in STOP and 20 <= df[w] <= 5000 and w not in seen:
                seen.append(w)
        return seen

    groups2, groups3 = [], []
    for tw in titles:
        c = content(tw)
        if len(c) >= 3:
            groups3.append(c[:3])
        if len(c) >= 2:
            groups2.append(c[:2])
    for g in pick(groups2, N):
        add("and2", " ".join(g), " AND ".join(map(q, g)), " AND ".join(g))
    for g in pick(groups3, N):
        add("and3", " ".join(g), " AND ".join(map(q, g)), " AND ".join(g))
    med = band(100, 3000)
    for i, w in enumerate(pick(med, 2 * N)[:N]):
        v = med[(len(med) // 2 + i * 37) % len(med)]
        if v == w:
            v = med[(len(med) // 2 + i * 37 + 1) % len(med)]
        add("or2", "%s OR %s" % (w, v), "%s OR %s" % (q(w), q(v)), "%s OR %s" % (w, v))

    # phrases: the 8 most common bigrams (stopwords allowed), 10 content bigrams,
    # 7 content-ish trigrams, 5 four-grams
    phr = [g for g, _ in sorted(bi.items(), key=lambda x: (-x[1], x[0]))[:8]]
    if ("prime", "minister") not in phr:
        phr.append(("prime", "minister"))
    cb = sorted((g for g, c in bi.items() if 50 <= c <= 2000 and g[0] not in STOP
                 and g[1] not in STOP and len(g[0]) >= 3 and len(g[1]) >= 3),
                key=lambda g: (bi[g], g))
    phr += [g for g in pick(cb, 12) if g not in phr][: 18 - len(phr)]
    ct = sorted((g for g, c in tri.items() if 30 <= c <= 1000 and g[0] not in STOP
                 and g[2] not in STOP), key=lambda g: (tri[g], g))
    phr += pick(ct, 7)
    cq = sorted((g for g, c in quad.items() if 20 <= c <= 500 and g[0] not in STOP
                 and g[3] not in STOP), key=lambda g: (quad[g], g))
    phr += pick(cq, N - len(phr))
    for g in phr[:N]:
        s = " ".join(g)
        add("phrase", '"%s"' % s, '"%s"' % s, '"%s"' % s)

    tband = sorted((w for w in vocab if 30 <= title_df[w] <= 600 and w not in STOP
                    and len(w) >= 4), key=lambda w: (title_df[w], w))
    for w in pick(tband, N):
        add("title", "title:%s" % w, "title : %s" % q(w), "title:%s" % w)

    pre = Counter()
    for w in vocab:
        for k in (4, 5, 6):
            if len(w) > k:
                pre[w[:k]] += 1
    pband = sorted((p for p, c in pre.items() if 5 <= c <= 150 and p not in STOP),
                   key=lambda p: (pre[p], p))
    for p in pick(pband, N):
        add("prefix", p + "*", '"%s" *' % p, p + "*")

    months = [(3, 1, 4, 15), (4, 1, 4, 30), (5, 1, 6, 30), (3, 15, 5, 15), (6, 1, 8, 31),
              (8, 1, 8, 31), (9, 1, 10, 31), (3, 1, 3, 31), (4, 10, 6, 10), (7, 1, 9, 30)]
    dw = pick(band(300, 6000), N)
    for i, w in enumerate(dw):
        m1, d1, m2, d2 = months[i % len(months)]
        lo = "1987-%02d-%02d" % (m1, d1)
        hi = "1987-%02d-%02d" % (m2, d2)
        nxt = "1987-%02d-%02d" % ((m2, d2 + 1) if d2 < 28 else (m2 + 1, 1))
        add("date", "%s date:%s..%s" % (w, lo, hi), "%s @ts %s %s" % (q(w), lo, nxt),
            "%s %s..%s" % (w, lo.replace("-", ""), hi.replace("-", "")))

    print("# tools/bench/queries.tsv - the fixed query set of the benchmark, generated by")
    print("# tools/bench/gen-queries.py from Reuters-21578 + BBC (see there). Columns:")
    print("# TYPE, newsq query, FTS5 MATCH text (\" @ts LO HI\": date filter), Xapian query.")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
