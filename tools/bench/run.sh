#!/bin/sh
# tools/bench/run.sh - `make bench`: newsidx against SQLite FTS5 on the same corpus, one run.
#
# Prepares Reuters-21578 + BBC as JSON Lines once, builds both indexes 3 times (wall, CPU,
# peak RSS, size), times the queries of tools/bench/queries.txt in-process and as whole
# processes, checks newsidx's memory bound on Reuters with --mem-budget 32, and writes the
# Markdown report to build/bench/results.md (also printed). See tools/bench/README.md.
#
# Environment: NEWSIDX_CORPORA (default ../shared/corpora), BENCH_BUILDS (index builds per
# engine, default 3), BENCH_ITER (in-process passes over the query set, default 50),
# BENCH_REPEAT (whole-process rounds, default 10), CC (default cc), TMPDIR.
set -eu

cd "$(dirname "$0")/../.."
CORPORA=${NEWSIDX_CORPORA:-../shared/corpora}
BUILDS=${BENCH_BUILDS:-3}
ITER=${BENCH_ITER:-50}
REPEAT=${BENCH_REPEAT:-10}
CC=${CC:-cc}
OUT=build/bench
QUERIES=tools/bench/queries.txt

die() {
    echo "bench: $*" >&2
    exit 1
}

# --- corpora -------------------------------------------------------------------------
set -- "$CORPORA"/reuters21578/reut2-*.sgm
[ -f "$1" ] || die "Reuters-21578 not found: expected $CORPORA/reuters21578/reut2-*.sgm
       (set NEWSIDX_CORPORA to the folder holding reuters21578/ and bbc/)"
REUTERS_FILES=$#
ls "$CORPORA"/bbc/*/*.txt >/dev/null 2>&1 ||
    die "BBC corpus not found: expected $CORPORA/bbc/<topic>/NNN.txt
       (set NEWSIDX_CORPORA to the folder holding reuters21578/ and bbc/)"

# --- SQLite ----------------------------------------------------------------------------
if ! dpkg -s sqlite3 libsqlite3-dev >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    echo "bench: installing sqlite3 libsqlite3-dev" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y sqlite3 libsqlite3-dev ||
        { $SUDO apt-get update && $SUDO apt-get install -y sqlite3 libsqlite3-dev; } ||
        die "could not install sqlite3 libsqlite3-dev"
fi

# --- programs --------------------------------------------------------------------------
for b in build/newsidx build/newsq build/reuters2jsonl build/librel.a; do
    [ -e "$b" ] || die "$b is missing: run make first (make bench does)"
done
mkdir -p "$OUT"
CFLAGS_BENCH="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -include format/banned.h
    -Iformat -Iindexer -Iquery -Itools/bench -Wall -Wextra -Werror -Wshadow
    -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 -Wno-format-nonliteral -O2 -g"
LIBS="build/librel.a -lz -lyaml -lstemmer -lutf8proc -lm"
# shellcheck disable=SC2086
{
    $CC $CFLAGS_BENCH -o "$OUT"/benchrun tools/bench/benchrun.c tools/bench/benchutil.c -lm &&
    $CC $CFLAGS_BENCH -o "$OUT"/bbc2jsonl tools/bench/bbc2jsonl.c $LIBS &&
    $CC $CFLAGS_BENCH -o "$OUT"/fts5_bench tools/bench/fts5_bench.c tools/bench/benchutil.c \
        -lsqlite3 $LIBS &&
    $CC $CFLAGS_BENCH -o "$OUT"/newsidx_inproc tools/bench/newsidx_inproc.c \
        tools/bench/benchutil.c $LIBS
} || die "building the benchmark programs failed"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/newsidx-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
# private copies: a `make` running meanwhile must not swap the binaries under the run
mkdir "$TMP/bin"
cp build/newsidx build/newsq build/reuters2jsonl "$OUT"/benchrun "$OUT"/bbc2jsonl \
    "$OUT"/fts5_bench "$OUT"/newsidx_inproc "$TMP/bin/"
BIN=$TMP/bin

bytes_of() { # total bytes of the regular files under $1 (a directory or a file)
    find "$1" -type f -exec stat -c %s {} + | awk '{s += $1} END {print s + 0}'
}
median() { # median of the numbers on stdin
    sort -g | awk '{v[NR] = $1} END {
        if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2];
        else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
mib() { awk -v x="$1" 'BEGIN {printf "%.1f", x / 1048576}'; }

echo "bench: preparing the corpus" >&2
# --- 1. input, prepared once -----------------------------------------------------------
R=$TMP/reuters.jsonl
B=$TMP/bbc.jsonl
"$BIN"/reuters2jsonl "$CORPORA"/reuters21578/reut2-*.sgm >"$R" 2>"$TMP/reuters2jsonl.log" ||
    die "reuters2jsonl failed: $(cat "$TMP/reuters2jsonl.log")"
"$BIN"/bbc2jsonl "$CORPORA/bbc" >"$B" || die "bbc2jsonl failed"
N_R=$(wc -l <"$R" | tr -d ' ')
N_B=$(wc -l <"$B" | tr -d ' ')
N_ALL=$((N_R + N_B))
IN_BYTES=$(($(bytes_of "$R") + $(bytes_of "$B")))
cat "$R" "$B" >/dev/null # same page-cache state for every build

# --- 2. index builds, interleaved ------------------------------------------------------
NIDX_CMD="build/newsidx --index IDX add --keep-duplicates reuters.jsonl bbc.jsonl"
FTS_CMD="build/bench/fts5_bench build DB reuters.jsonl bbc.jsonl"
: >"$TMP/build.nidx"
: >"$TMP/build.fts"
i=1
while [ "$i" -le "$BUILDS" ]; do
    echo "bench: index build $i/$BUILDS" >&2
    rm -rf "$TMP/nidx" "$TMP/fts.db"
    r=$("$BIN"/benchrun time "$TMP/nidx.log" "$BIN"/newsidx --index "$TMP/nidx" add \
        --keep-duplicates "$R" "$B") || die "could not run newsidx"
    # shellcheck disable=SC2086
    set -- $r
    [ "$4" = 0 ] || die "newsidx add exited $4: $(tail -5 "$TMP/nidx.log")"
    echo "$1 $2 $3 $(bytes_of "$TMP/nidx")" >>"$TMP/build.nidx"
    r=$("$BIN"/benchrun time "$TMP/fts.log" "$BIN"/fts5_bench build "$TMP/fts.db" "$R" "$B") ||
        die "could not run fts5_bench"
    # shellcheck disable=SC2086
    set -- $r
    [ "$4" = 0 ] || die "fts5_bench build exited $4: $(tail -5 "$TMP/fts.log")"
    echo "$1 $2 $3 $(bytes_of "$TMP/fts.db")" >>"$TMP/build.fts"
    i=$((i + 1))
done
FTS_DOCS=$(awk '$1 == "docs" {print $2}' "$TMP/fts.log")
[ "$FTS_DOCS" = "$N_ALL" ] || die "FTS5 indexed $FTS_DOCS articles, expected $N_ALL"
NIDX_DOCS=$("$BIN"/newsidx --index "$TMP/nidx" stats | awk '$1 == "articles" {print $2}')
[ "$NIDX_DOCS" = "$N_ALL" ] || die "newsidx indexed ${NIDX_DOCS:-?} articles, expected $N_ALL"
col() { awk -v c="$1" '{print $c}' "$2" | median; }

# --- 3a. in-process query latency ------------------------------------------------------
echo "bench: in-process queries ($ITER passes)" >&2
"$BIN"/newsidx_inproc "$TMP/nidx" "$QUERIES" "$ITER" >"$TMP/inproc.nidx" ||
    die "newsidx_inproc failed"
"$BIN"/fts5_bench inproc "$TMP/fts.db" "$QUERIES" "$ITER" >"$TMP/inproc.fts" ||
    die "fts5_bench inproc failed"

# --- 3b. whole-process query latency ---------------------------------------------------
echo "bench: whole-process queries ($REPEAT rounds)" >&2
"$BIN"/benchrun procq "$QUERIES" "$REPEAT" \
    newsidx "$BIN"/newsq --index "$TMP/nidx" -n 10 {} :: \
    fts5 "$BIN"/fts5_bench query "$TMP/fts.db" 10 {} >"$TMP/proc" ||
    die "whole-process query run failed"

# --- 6. memory bound -------------------------------------------------------------------
echo "bench: memory check" >&2
rm -rf "$TMP/mem"
r=$("$BIN"/benchrun time "$TMP/mem.log" "$BIN"/newsidx --index "$TMP/mem" add \
    --mem-budget 32 "$R") || die "could not run newsidx"
# shellcheck disable=SC2086
set -- $r
[ "$4" = 0 ] || die "newsidx add --mem-budget 32 exited $4: $(tail -5 "$TMP/mem.log")"
MEM_KIB=$3
MEM_WALL=$1
MEM_SEGS=$(find "$TMP/mem" -name '*.nxs' | wc -l | tr -d ' ')
if [ "$MEM_KIB" -lt $((150 * 1024)) ]; then MEM_VERDICT=PASS; else MEM_VERDICT=FAIL; fi

# --- 5. report -------------------------------------------------------------------------
CPU=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -1)
SAME=$(paste "$TMP/inproc.nidx" "$TMP/inproc.fts" |
    awk -F'\t' '$1 == "Q" {n++; if ($3 == $6) s++} END {printf "%d of %d", s, n}')
{
    echo "# newsidx vs SQLite FTS5"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(uname -m), ${CPU:-unknown CPU}, $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs"
    echo "- SQLite $("$BIN"/fts5_bench version); newsidx $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "- corpus: $N_R Reuters-21578 articles ($REUTERS_FILES SGML files) + $N_B BBC articles = $N_ALL articles, $(mib "$IN_BYTES") MiB of JSON Lines"
    echo "  (newsidx indexed $NIDX_DOCS, FTS5 $FTS_DOCS)"
    echo "- command: \`make bench\` = \`sh tools/bench/run.sh\` (BENCH_BUILDS=$BUILDS BENCH_ITER=$ITER BENCH_REPEAT=$REPEAT)"
    echo "  - newsidx build: \`$NIDX_CMD\`; FTS5 build: \`$FTS_CMD\` (one transaction, then 'optimize')"
    echo "  - whole-process query: \`build/newsq --index IDX -n 10 QUERY\` vs \`build/bench/fts5_bench query DB 10 QUERY\`"
    echo "  - in-process: \`build/bench/newsidx_inproc IDX $QUERIES $ITER\` vs \`build/bench/fts5_bench inproc DB $QUERIES $ITER\`"
    echo
    echo "Builds: median of $BUILDS runs each (interleaved). In-process: $ITER passes over the"
    echo "$(grep -vc '^#' "$QUERIES") queries after a warm-up pass, per type median and p99 of all samples."
    echo "Whole-process: $REPEAT rounds (after a warm-up round), engines alternating per query."
    echo "Ratio = newsidx / FTS5 (below 1: newsidx is smaller or faster). Same run, same machine."
    echo
    echo "| metric | newsidx | FTS5 | ratio |"
    echo "|---|---:|---:|---:|"
    row() { # label nidx fts
        awk -v l="$1" -v a="$2" -v b="$3" -v f="$4" 'BEGIN {
            printf "| %s | " f " | " f " | %s |\n", l, a, b, (b > 0 ? sprintf(a / b < 0.1 ? "%.3f" : "%.2f", a / b) : "-") }'
    }
    row "build wall s" "$(col 1 "$TMP/build.nidx")" "$(col 1 "$TMP/build.fts")" "%.2f"
    row "build CPU s" "$(col 2 "$TMP/build.nidx")" "$(col 2 "$TMP/build.fts")" "%.2f"
    row "build peak RSS MiB" "$(col 3 "$TMP/build.nidx" | awk '{print $1 / 1024}')" \
        "$(col 3 "$TMP/build.fts" | awk '{print $1 / 1024}')" "%.1f"
    row "index size MiB" "$(mib "$(col 4 "$TMP/build.nidx")")" "$(mib "$(col 4 "$TMP/build.fts")")" "%.1f"
    for t in $(awk -F'\t' '$1 == "T" {print $2}' "$TMP/inproc.nidx"); do
        a=$(awk -F'\t' -v t="$t" '$1 == "T" && $2 == t {print $3, $4}' "$TMP/inproc.nidx")
        b=$(awk -F'\t' -v t="$t" '$1 == "T" && $2 == t {print $3, $4}' "$TMP/inproc.fts")
        row "$t in-process p50 µs" "${a% *}" "${b% *}" "%.1f"
        row "$t in-process p99 µs" "${a#* }" "${b#* }" "%.1f"
    done
    for t in $(awk -F'\t' '$1 == "T" && $2 == "newsidx" {print $3}' "$TMP/proc"); do
        a=$(awk -F'\t' -v t="$t" '$1 == "T" && $2 == "newsidx" && $3 == t {print $4, $5}' "$TMP/proc")
        b=$(awk -F'\t' -v t="$t" '$1 == "T" && $2 == "fts5" && $3 == t {print $4, $5}' "$TMP/proc")
        row "$t whole-process p50 ms" "${a% *}" "${b% *}" "%.2f"
        row "$t whole-process p99 ms" "${a#* }" "${b#* }" "%.2f"
    done
    echo
    echo "Matches per query agree for $SAME queries (differences: Snowball English vs Porter"
    echo "stemming, e.g. quarterly -> quarter vs quarterli). Matches summed per type, newsidx / FTS5:"
    paste "$TMP/inproc.nidx" "$TMP/inproc.fts" |
        awk -F'\t' '$1 == "Q" {print $2, $3, $6}' >"$TMP/counts"
    grep -v '^#' "$QUERIES" | cut -f1 | paste -d' ' - "$TMP/counts" |
        awk '{a[$1] += $3; b[$1] += $4; if (!($1 in o)) {o[$1] = ++n; k[n] = $1}}
             END {for (i = 1; i <= n; i++) printf "%s %d / %d%s", k[i], a[k[i]], b[k[i]],
                  (i < n ? "; " : ".\n")}'
    echo
    echo "Memory check (core issue): \`newsidx add --mem-budget 32\` over all of Reuters ($N_R articles):"
    echo "peak RSS $(mib $((MEM_KIB * 1024))) MiB (limit 150 MiB), $MEM_WALL s, $MEM_SEGS segment(s): **$MEM_VERDICT**"
} >"$OUT/results.md"
cat "$OUT/results.md"
[ "$MEM_VERDICT" = PASS ] || exit 1
