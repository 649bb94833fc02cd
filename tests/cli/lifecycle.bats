#!/usr/bin/env bats
# lifecycle.bats - index lifecycle with the real binaries: tiered merges, compact,
# rebuild (round trip through export, failed and killed rebuilds), check on damaged
# indexes, stats, configuration files, and the writer lock.

setup() {
    ROOT=${NEWSIDX_ROOT:-$PWD}
    BIN=${NEWSIDX_BIN:-$ROOT/build/asan}
    T=$(mktemp -d)
    IX=$T/index
    export NEWSIDX_INDEX=$IX
    export NEWSIDX_CONFIG=
    export XDG_CONFIG_HOME=$T/xdg
    cd "$T"
}

teardown() {
    cd /
    rm -rf "$T"
}

newsidx() { "$BIN/newsidx" "$@"; }
newsq() { "$BIN/newsq" "$@"; }

# N JSON Lines records with ids r1..rN, varied words, two sources and dates.
records() {
    local n=$1 i
    for ((i = 1; i <= n; i++)); do
        printf '{"id":"r%d","title":"Report %d on %s","body":"Talks number %d about %s and trade %d","source":"%s","date":"2025-02-%02dT10:00:00Z"}\n' \
            "$i" "$i" "$([ $((i % 3)) -eq 0 ] && echo NATO || echo markets)" "$i" \
            "$([ $((i % 2)) -eq 0 ] && echo ukraine || echo brussels)" $((i * 7 % 13)) \
            "$([ $((i % 4)) -eq 0 ] && echo Reuters || echo 'BBC News')" $((i % 28 + 1))
    done
}

segments() { grep -c '^segment ' "$IX/MANIFEST"; }
json_field() { grep -o "\"$1\":[^,}]*" | head -1 | cut -d: -f2; }

# top hits (ids and scores) of a few queries
queries() {
    local q
    for q in nato "talks ukraine" '"trade 5"' 'markets OR brussels' 'title:report -nato'; do
        newsq --json -n 20 "$q" | sed 's/"snippet":.*//'
    done
}

@test "1,000 single-article commits leave a handful of segments" {
    records 1000 > r.jsonl
    run newsidx add --commit-every 1 r.jsonl
    [ "$status" -eq 0 ]
    [ "$(segments)" -le 20 ]
    [ "$(newsidx stats --json | json_field articles)" -eq 1000 ]
    records 999 > r999.jsonl
    rm -rf "$IX"
    run newsidx add --commit-every 1 r999.jsonl
    [ "$status" -eq 0 ]
    [ "$(segments)" -le 27 ] # the worst case: 9 segments in each of 3 tiers
    run newsidx check
    [ "$status" -eq 0 ]
}

@test "compact merges to one segment, drops deletions and keeps query results" {
    records 300 > r.jsonl
    newsidx add --commit-every 25 r.jsonl
    records 40 | sed 's/Talks/Replaced talks/' > again.jsonl
    newsidx add again.jsonl
    newsidx rm r7 r100 r299
    before=$(queries)
    export_before=$(newsidx export)
    [ "$(newsidx stats --json | json_field deleted)" -gt 0 ]
    run newsidx compact
    [ "$status" -eq 0 ]
    [ "$(segments)" -eq 1 ]
    [ "$(newsidx stats --json | json_field deleted)" -eq 0 ]
    [ "$(newsidx stats --json | json_field articles)" -eq 297 ]
    [ "$(queries)" = "$before" ]
    [ "$(newsidx export)" = "$export_before" ]
    [ "$(ls "$IX" | grep -c '^seg-')" -eq 1 ]
    run newsidx --index "$T/none" compact
    [ "$status" -eq 3 ]
    run newsidx compact --threads 0
    [ "$status" -eq 2 ]
    run newsidx --index "$T/none" rm r1
    [ "$status" -eq 3 ]
    [ ! -e "$T/none" ]
}

@test "compact --threads 1 writes the same segment as the two-thread compact" {
    records 300 > r.jsonl
    newsidx add --commit-every 40 r.jsonl
    newsidx rm r3 r150
    cp -r "$IX" "$T/one"
    newsidx compact
    run newsidx --index "$T/one" compact --threads 1
    [ "$status" -eq 0 ]
    [ "$(ls "$T/one" | grep -c '^seg-')" -eq 1 ]
    cmp "$IX"/seg-*.nxs "$T"/one/seg-*.nxs
}

@test "export piped into rebuild round-trips ids, fields and query results" {
    records 200 > r.jsonl
    printf '{"id":"undated","title":"No date","body":"Text without a date"}\n' >> r.jsonl
    newsidx add --commit-every 30 r.jsonl
    newsidx rm r10
    before=$(queries)
    newsidx export > before.jsonl
    newsidx export | newsidx rebuild -
    newsidx export > after.jsonl
    cmp before.jsonl after.jsonl
    [ "$(queries)" = "$before" ]
    run newsidx stats --json
    [[ "$output" != *'"last_rebuild":null'* ]]
    [[ "$output" == *'"last_rebuild":"'* ]]
}

@test "rebuild replaces every article and removes the old generation's files" {
    records 50 > old.jsonl
    newsidx add old.jsonl
    old_files=$(ls "$IX" | grep '^seg-')
    printf '{"id":"n1","title":"Fresh","body":"Only article"}\n' > new.jsonl
    run newsidx rebuild new.jsonl
    [ "$status" -eq 0 ]
    [ "$(newsidx export | wc -l)" -eq 1 ]
    for f in $old_files; do [ ! -e "$IX/$f" ]; done
}

@test "a failed rebuild leaves the old index serving" {
    records 60 > r.jsonl
    newsidx add r.jsonl
    newsidx export > before.jsonl
    printf '{"id":"n1","title":"Fresh","body":"Only article"}\n' > new.jsonl
    NEWSIDX_FAULT=rename:1 run newsidx rebuild new.jsonl
    [ "$status" -eq 74 ]
    newsidx export | cmp - before.jsonl
    NEWSIDX_FAULT=fsync:2 run newsidx rebuild new.jsonl
    [ "$status" -eq 74 ]
    newsidx export | cmp - before.jsonl
    run newsidx check
    [ "$status" -eq 0 ]
}

@test "a killed rebuild leaves the old index and its leftovers go at the next writer open" {
    records 60 > r.jsonl
    newsidx add r.jsonl
    newsidx export > before.jsonl
    records 500 | sed 's/"id":"r/"id":"n/' > new.jsonl
    NEWSIDX_FAULT=rename:1:crash run newsidx rebuild --mem-budget 1 new.jsonl
    [ "$status" -eq 137 ]
    newsidx export | cmp - before.jsonl
    [ "$(ls "$IX" | grep -c '^seg-')" -gt 1 ] # the new generation's unreferenced files
    newsidx rm r1
    [ "$(ls "$IX" | grep -c '^seg-')" -le 2 ] # one segment and its deletion bitmap
    run newsidx check
    [ "$status" -eq 0 ]
}

@test "rebuild that reads no article leaves the index unchanged" {
    records 10 > r.jsonl
    newsidx add r.jsonl
    : > empty.jsonl
    run newsidx rebuild empty.jsonl
    [ "$status" -eq 1 ]
    [[ "$output" == *"unchanged"* ]]
    [ "$(newsidx export | wc -l)" -eq 10 ]
}

@test "rebuild recovers an index whose manifest is damaged" {
    records 20 > r.jsonl
    newsidx add r.jsonl
    printf 'garbage\n' > "$IX/MANIFEST"
    run newsidx check
    [ "$status" -eq 3 ]
    run newsidx rebuild r.jsonl
    [ "$status" -eq 0 ]
    run newsidx check
    [ "$status" -eq 0 ]
    [ "$(newsidx export | wc -l)" -eq 20 ]
}

@test "check names each damaged file and exits 3" {
    records 100 > r.jsonl
    newsidx add --commit-every 50 r.jsonl
    newsidx rm r3
    run newsidx check
    [ "$status" -eq 0 ]
    [[ "$output" == "ok: "* ]]
    seg=$(ls "$IX" | grep '\.nxs$' | head -1)
    del=$(ls "$IX" | grep '\.del-' | head -1)
    printf '\x55' | dd of="$IX/$seg" bs=1 seek=40 conv=notrunc 2> /dev/null
    truncate -s 2 "$IX/$del"
    run newsidx check
    [ "$status" -eq 3 ]
    [[ "$output" == *"$seg"* ]]
    [[ "$output" == *"$del"* ]]
    [[ "$output" == *"2 problems found"* ]]
    sed -i 's/^segment \([0-9]*\)/segment 9\1/' "$IX/MANIFEST"
    run newsidx check
    [ "$status" -eq 3 ]
    [[ "$output" == *"MANIFEST"* ]]
}

@test "random damage to any index file makes check exit 3 without crashing" {
    records 120 > r.jsonl
    newsidx add --commit-every 40 r.jsonl
    newsidx rm r5 r77
    cp -r "$IX" pristine
    for i in $(seq 1 30); do
        files=("$IX"/MANIFEST "$IX"/seg-*)
        f=${files[$((RANDOM % ${#files[@]}))]}
        size=$(stat -c %s "$f")
        if [ $((i % 3)) -eq 0 ]; then
            truncate -s $((RANDOM % size)) "$f"
        else
            off=$((RANDOM * 32768 + RANDOM))
            off=$((off % size))
            old=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
            printf "\\$(printf '%03o' $(((old + 1 + RANDOM % 255) % 256)))" |
                dd of="$f" bs=1 seek="$off" conv=notrunc 2> /dev/null
        fi
        run newsidx check
        [ "$status" -eq 3 ] || { echo "damage $i to $f not detected"; false; }
        run newsidx stats
        [ "$status" -eq 0 ] || [ "$status" -eq 3 ]
        run newsidx export
        [ "$status" -eq 0 ] || [ "$status" -eq 3 ]
        rm -rf "$IX"
        cp -r pristine "$IX"
    done
}

@test "stats reports articles, deletions, duplicates, bytes, dates, sources and times" {
    records 40 > r.jsonl
    printf '{"id":"copy","title":"Report 1 on markets","body":"Talks number 1 about brussels and trade 7","source":"Elsewhere"}\n' >> r.jsonl
    newsidx add r.jsonl
    newsidx rm r2
    run newsidx stats --json
    [ "$status" -eq 0 ]
    [[ "$output" == *'"articles":39,'* ]]
    [[ "$output" == *'"deleted":1,'* ]]
    [[ "$output" == *'"duplicates_skipped":1,'* ]]
    [[ "$output" == *'"first_timestamp":"2025-02-'*'T10:00:00Z"'* ]]
    [[ "$output" == *'"top_sources":[{"source":"BBC News","count":29},{"source":"Reuters","count":10}]'* ]]
    [[ "$output" == *'"last_commit":"20'* ]]
    [[ "$output" == *'"last_rebuild":null'* ]]
    [[ "$output" == *'"deletions":'* ]]
    run newsidx stats
    [ "$status" -eq 0 ]
    [[ "$output" == *"deleted             1 (2.5% of stored articles)"* ]]
    [[ "$output" == *"last rebuild        never"* ]]
}

@test "configuration: sources, index, budget and where each value came from" {
    records 30 > wire.jsonl
    cat > newsidx.yaml <<YAML
index: cfgindex
analyzer:
  language: english
memory_budget: 8
sources:
  - path: wire.jsonl
    format: jsonl
YAML
    unset NEWSIDX_INDEX
    run newsidx config
    [ "$status" -eq 0 ]
    [[ "$output" == *"index: \"$T/cfgindex\"  # newsidx.yaml:1"* ]]
    [[ "$output" == *"memory_budget: 8  # newsidx.yaml:4"* ]]
    [[ "$output" == *"k1: 1.2  # default"* ]]
    run newsidx rebuild
    [ "$status" -eq 0 ]
    [ -f "$T/cfgindex/MANIFEST" ]
    [ "$(newsidx export | wc -l)" -eq 30 ]
    run newsidx --index other config
    [[ "$output" == *'index: "other"  # --index'* ]]
}

@test "configuration errors name the key, file and line and exit 2" {
    printf 'ranking:\n  k1: 1.2\n  bee: 3\n' > bad.yaml
    run newsidx --config bad.yaml stats
    [ "$status" -eq 2 ]
    [ "$output" = 'newsidx: bad.yaml:3: unknown key "ranking.bee"' ]
    printf 'merge:\n  factor: many\n' > bad.yaml
    NEWSIDX_CONFIG=bad.yaml run newsidx stats
    [ "$status" -eq 2 ]
    [ "$output" = 'newsidx: bad.yaml:2: merge.factor: expected a number' ]
    run newsidx --config missing.yaml stats
    [ "$status" -eq 2 ]
    [[ "$output" == *"missing.yaml"* ]]
}

@test "changing the analyzer in the configuration needs a rebuild" {
    records 5 > r.jsonl
    newsidx add r.jsonl
    printf 'analyzer:\n  language: none\n' > newsidx.yaml
    run newsidx add r.jsonl
    [ "$status" -eq 2 ]
    [[ "$output" == *"newsidx rebuild"* ]]
    run newsidx rebuild r.jsonl
    [ "$status" -eq 0 ]
    [[ "$(newsidx stats --json)" == *'"language":"none"'* ]]
    run newsidx add r.jsonl
    [ "$status" -eq 0 ]
}

# Start a writer that holds the lock until we write to the FIFO; sets HOLDER.
hold_lock() {
    mkfifo "$T/fifo"
    "$BIN/newsidx" add - < "$T/fifo" > /dev/null 2>&1 3>&- &
    HOLDER=$!
    exec 4> "$T/fifo"
    for _ in $(seq 1 200); do
        grep -qx "$HOLDER" "$IX/LOCK" 2> /dev/null && return 0
        sleep 0.05
    done
    return 1
}

release_lock() {
    printf '{"id":"held","title":"Held","body":"Written while holding the lock"}\n' >&4
    exec 4>&-
    wait "$HOLDER"
}

@test "a second writer exits 75 naming the pid that holds the lock" {
    records 3 > r.jsonl
    newsidx add r.jsonl
    hold_lock
    records 5 > r5.jsonl
    run newsidx add r5.jsonl
    [ "$status" -eq 75 ]
    [[ "$output" == *"index is locked by pid $HOLDER"* ]]
    run newsidx compact
    [ "$status" -eq 75 ]
    run newsidx rebuild r5.jsonl
    [ "$status" -eq 75 ]
    run newsidx check # readers never lock
    [ "$status" -eq 0 ]
    release_lock
    [ "$(newsidx export | wc -l)" -eq 4 ]
}

@test "with --wait a second writer succeeds after the first finishes" {
    records 3 > r.jsonl
    hold_lock
    "$BIN/newsidx" add --wait 20 r.jsonl 3>&- 4>&- &
    second=$!
    sleep 0.5
    kill -0 "$second" # still waiting
    release_lock
    wait "$second"
    [ "$(newsidx export | wc -l)" -eq 4 ]
}

@test "a stale LOCK file from a dead process does not block" {
    records 3 > r.jsonl
    mkdir -p "$IX"
    printf '999999\n' > "$IX/LOCK"
    run newsidx add r.jsonl
    [ "$status" -eq 0 ]
    [ "$(newsidx export | wc -l)" -eq 3 ]
}

@test "compact on the BBC corpus keeps query results" {
    bbc=$ROOT/../shared/corpora/bbc
    [ -d "$bbc" ] || skip "no BBC corpus"
    run newsidx add --mem-budget 4 "$bbc/business" "$bbc/sport"
    [ "$status" -le 1 ] # the corpus has a file with invalid UTF-8
    [ "$(segments)" -gt 1 ]
    before=$(queries; newsq --json -n 10 "oil prices" | sed 's/"snippet":.*//')
    newsidx compact
    [ "$(segments)" -eq 1 ]
    [ "$(queries; newsq --json -n 10 "oil prices" | sed 's/"snippet":.*//')" = "$before" ]
}

@test "compact and merging commits fail cleanly at every I/O step" {
    records 108 > r.jsonl
    newsidx add --commit-every 12 r.jsonl # 9 tier-1 segments
    newsidx rm r4
    [ "$(segments)" -eq 9 ]
    records 12 | sed 's/"id":"r/"id":"x/; s/Talks/Extra talks/' > extra.jsonl
    cp -r "$IX" pristine
    newsidx export > before.jsonl
    for cmd in compact "add extra.jsonl"; do # add: a 10th tier-1 segment, merged at commit
        newsidx $cmd
        newsidx export > after.jsonl
        rm -rf "$IX"
        cp -r pristine "$IX"
        failures=0
        for n in $(seq 1 30); do
            for op in write fsync rename; do
                NEWSIDX_FAULT=$op:$n run newsidx $cmd
                [ "$status" -eq 0 ] && continue
                [ "$status" -eq 74 ] || { echo "$cmd $op:$n exit $status: $output"; false; }
                failures=$((failures + 1))
                newsidx export > now.jsonl
                # the old index, or (only when the directory fsync after the manifest
                # rename failed) the new one: never anything in between
                cmp -s now.jsonl before.jsonl || { [ "$op" = fsync ] && cmp now.jsonl after.jsonl; }
                run newsidx check
                [ "$status" -eq 0 ]
                rm -rf "$IX"
                cp -r pristine "$IX"
            done
        done
        [ "$failures" -ge 5 ]
        rm -rf "$IX"
        cp -r pristine "$IX"
        newsidx $cmd
        [ "$(segments)" -eq 1 ]
        rm -rf "$IX"
        cp -r pristine "$IX"
    done
}

@test "configured sources pass teasers: to the saved-page reader" {
    page=$ROOT/../shared/samples/thehill-hegseth-nato-ukraine.txt
    [ -f "$page" ] || skip "no shared samples"
    printf 'sources:\n  - path: %s\n    teasers: false\n' "$page" > newsidx.yaml
    newsidx rebuild
    [ "$(newsidx export | wc -l)" -eq 1 ]
    printf 'sources:\n  - path: %s\n    teasers: true\n' "$page" > newsidx.yaml
    newsidx rebuild
    [ "$(newsidx export | wc -l)" -gt 1 ]
}
