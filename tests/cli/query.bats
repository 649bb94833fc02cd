#!/usr/bin/env bats
# query.bats - newsq's query language and result formats end to end: highlighting with and
# without a terminal, JSON validity, paging, sorting, filters, collapse, facets, explain,
# and the error messages with their caret.

setup() {
    ROOT=${NEWSIDX_ROOT:-$PWD}
    BIN=${NEWSIDX_BIN:-$ROOT/build/asan}
    T=$(mktemp -d)
    export NEWSIDX_INDEX=$T/index
    unset NEWSIDX_CONFIG # and cd below: no ./newsidx.yaml of the caller either
    cd "$T"
    "$BIN/newsidx" add "$ROOT/samples" >/dev/null
}

teardown() {
    cd /
    rm -rf "$T"
}

newsq() { "$BIN/newsq" "$@"; }

have_python() { command -v python3 >/dev/null 2>&1; }

# 60 articles that score alike for "gadget", from three sources, dated 2024-01..2024-05
add_alike() {
    for i in $(seq 1 60); do
        m=$(( (i % 5) + 1 ))
        s=$(( i % 3 ))
        printf '{"id":"alike-%02d","title":"Report %d","source":"Src%d","timestamp":"2024-0%d-1%dT00:00:00Z","body":"the gadget report"}\n' \
            "$i" "$i" "$s" "$m" $(( i % 10 ))
    done > "$T/alike.jsonl"
    "$BIN/newsidx" add "$T/alike.jsonl" >/dev/null
}

@test "--color=always bolds matches in the snippet and the title; never and pipes do not" {
    run newsq --color=always -n 1 "NATO membership"
    [ "$status" -eq 0 ]
    [[ "$output" == *$'\e[1mNATO\e[0m'* ]]
    title_line=$(printf '%s\n' "$output" | sed -n 2p)
    [[ "$title_line" == *$'\e[1m'* ]]
    run newsq --color=never -n 1 "NATO membership"
    [[ "$output" != *$'\e['* ]]
    run newsq -n 1 "NATO membership" # auto, stdout is not a terminal
    [[ "$output" != *$'\e['* ]]
}

@test "--color=auto highlights on a terminal (script -qc)" {
    command -v script >/dev/null || skip "no script(1)"
    out=$(TERM=xterm script -qc "$BIN/newsq -n 1 'NATO membership'" /dev/null)
    [[ "$out" == *$'\e[1m'* ]]
    out=$(NO_COLOR=1 TERM=xterm script -qc "$BIN/newsq -n 1 'NATO membership'" /dev/null)
    [[ "$out" != *$'\e[1m'* ]]
}

@test "--json prints one valid object per hit with the documented keys, --stats a summary" {
    run newsq --json --stats -n 5 "sanction* OR nato"
    [ "$status" -eq 0 ]
    first=$(printf '%s\n' "$output" | head -1)
    for k in id rank score title source timestamp url snippet matches; do
        [[ "$first" == *"\"$k\":"* ]]
    done
    last=$(printf '%s\n' "$output" | tail -1)
    [[ "$last" == '{"stats":{"total":'* ]]
    [[ "$last" == *'"elapsed_ms":'* ]]
    run newsq --json -n 5 "sanction* OR nato"
    [[ "$output" != *'"stats"'* ]]
    if have_python; then
        newsq --json --stats --explain -n 5 "sanction* OR nato" |
            python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]'
    fi
}

@test "--json stays valid for stored control characters and quotes" {
    printf '{"id":"ctl","title":"Tab\\there \\"quoted\\" \\u0001 bell\\u0007","source":"X","body":"gizmo line\\u0002one\\nline \\\\ two \\u001b[31m red"}\n' > "$T/ctl.jsonl"
    "$BIN/newsidx" add "$T/ctl.jsonl" >/dev/null || true
    run newsq --json gizmo
    [ "$status" -eq 0 ]
    [[ "$output" == *'\"quoted\"'* ]]
    [[ "$output" != *$'\e'* ]]
    [[ "$output" != *$'\t'* ]]
    if have_python; then
        printf '%s\n' "$output" | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]'
    fi
}

@test "paging: -n 10 --offset 10 is hits 11-20 of -n 20, equal scores in index order" {
    add_alike
    all=$(newsq --format ids -n 20 gadget)
    page=$(newsq --format ids -n 10 --offset 10 gadget)
    [ "$(printf '%s\n' "$all" | sed -n 11,20p)" = "$page" ]
    [ "$(printf '%s\n' "$all" | head -3)" = "$(printf 'alike-01\nalike-02\nalike-03')" ]
    run newsq --format ids -n 10 --offset 60 gadget
    [ "$status" -eq 1 ]
}

@test "--sort date and -date order hits by timestamp" {
    add_alike
    newsq --format tsv -n 60 --sort date gadget | cut -f3 > "$T/desc"
    sort -r "$T/desc" | diff - "$T/desc"
    newsq --format tsv -n 60 --sort -date gadget | cut -f3 > "$T/asc"
    sort "$T/asc" | diff - "$T/asc"
    run newsq --sort oldest gadget
    [ "$status" -eq 2 ]
}

@test "--since/--until, date: and --source filter by the columns" {
    add_alike
    [ "$(newsq --count gadget --since 2024-02 --until 2024-03)" -eq 24 ]
    [ "$(newsq --count 'gadget date:2024-02..2024-03')" -eq 24 ]
    [ "$(newsq --count 'gadget date:>=2024-05-01')" -eq 12 ]
    [ "$(newsq --count gadget --since 2024-02-12T00:00:00Z --until 2024-02-12)" -eq 0 ]
    [ "$(newsq --count gadget --since 2024-02-11T00:00:00Z --until 2024-02-11)" -eq 6 ]
    [ "$(newsq --count gadget --source src1)" -eq 20 ]
    [ "$(newsq --count gadget --source Src1 --source SRC2)" -eq 40 ]
    [ "$(newsq --count 'gadget source:Src0')" -eq 20 ]
    [ "$(newsq --count 'source:"Harbor Wire"')" -eq 3 ]
    run newsq --count gadget --since 2024-13
    [ "$status" -eq 2 ]
    [[ "$output" == *"--since"* ]]
    run newsq --count gadget --since 7d
    [ "$status" -eq 1 ] # nothing in the last week
}

@test "--per-source caps each source's hits and --facets counts from the columns" {
    add_alike
    run newsq --format tsv -n 50 --per-source 2 gadget
    [ "$status" -eq 0 ]
    [ "$(printf '%s\n' "$output" | wc -l)" -eq 6 ]
    [ "$(printf '%s\n' "$output" | cut -f4 | sort | uniq -c | awk '$1 > 2' | wc -l)" -eq 0 ]
    run newsq --count --facets source,month gadget
    [ "$status" -eq 0 ]
    [[ "$output" == 60* ]]
    [[ "$output" == *"source:"* ]]
    [[ "$output" == *"        20  Src0"* ]]
    [[ "$output" == *"        12  2024-01"* ]]
    run newsq --json -n 1 --facets month gadget
    [[ "$(printf '%s\n' "$output" | tail -1)" == '{"facets":{"month":{"2024-01":12,'* ]]
    run newsq --facets weekday gadget
    [ "$status" -eq 2 ]
}

@test "--recency scales scores by the documented half-life decay" {
    add_alike
    run newsq --json -n 1 --recency 30d gadget
    [ "$status" -eq 0 ]
    [[ "$output" == *'"timestamp":"2024-05-'* ]] # the newest first
    run newsq --recency soon gadget
    [ "$status" -eq 2 ]
}

@test "--explain shares add up to the score" {
    run newsq --explain -n 2 "nato ukraine"
    [ "$status" -eq 0 ]
    [[ "$output" == *"explain:"* ]]
    [[ "$output" == *"idf"* ]]
    if have_python; then
        newsq --json --explain -n 5 "nato OR sanction* OR \"peace talks\"" | python3 -c '
import json, sys
for l in sys.stdin:
    h = json.loads(l)
    s = sum(e["contribution"] for e in h["explain"])
    assert abs(s - h["score"]) < 1e-6, (s, h["score"])
    assert abs(sum(e["share"] for e in h["explain"]) - 1) < 1e-6
'
    fi
}

@test "--format ids, tsv and --count" {
    run newsq --format ids nato
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -ge 2 ]
    [[ "${lines[0]}" != *" "* ]] # one bare id per line
    run newsq --format tsv -n 1 nato
    [ "$(printf '%s' "$output" | awk -F'\t' '{print NF}')" -eq 7 ]
    run newsq --count nato
    [[ "$output" =~ ^[0-9]+$ ]]
}

@test "query errors point at the column with a caret and exit 2" {
    run newsq 'nato "peace deal'
    [ "$status" -eq 2 ]
    [[ "${lines[0]}" == *"unbalanced '\"'"*"column 6"* ]]
    [ "${lines[2]}" = "         ^" ]
    run newsq 'a (b (c)'
    [ "$status" -eq 2 ]
    [[ "$output" == *"unbalanced '('"* ]]
    run newsq 'nato OR'
    [ "$status" -eq 2 ]
    [[ "$output" == *'dangling operator "OR"'* ]]
    run newsq 'titel:nato'
    [ "$status" -eq 2 ]
    [[ "$output" == *'unknown field "titel"'* ]]
    run newsq 'nato date:2025-13'
    [ "$status" -eq 2 ]
    [[ "$output" == *'bad date'* ]]
}

@test "exclusion-only and punctuation-only queries get a clear message, not a scan" {
    run newsq -- -russia
    [ "$status" -eq 2 ]
    [[ "$output" == *"only excludes"* ]]
    run newsq '... & -'
    [ "$status" -eq 2 ]
    [[ "$output" == *"nothing to search for"* ]]
    run newsq --count --since 2025 -- -russia # with a filter it is a fair question
    [ "$status" -eq 0 ]
}

@test "typed punctuation searches like document text" {
    for q in "multi-agent" "U.S." "20.04" "Kyiv's" '$800' "AT&T" "c++" "10:30"; do
        run newsq --count "$q"
        [ "$status" -le 1 ]
    done
    run newsq --count '"Black Sea"'
    [ "$output" -ge 1 ]
}

@test "prefixes expand through the dictionary; a too broad prefix is refused" {
    run newsq --count 'sanction*'
    [ "$status" -eq 0 ]
    run newsq --count 'title:sanction*'
    [ "$status" -eq 0 ]
    run newsq --json -n 1 'sanction*'
    [[ "$output" == *'"matches":["sanction*"]'* ]]
}

@test "--config sets the ranking parameters; a bad config is an error naming the key" {
    base=$(newsq --json -n 1 nato | sed 's/.*"score":\([0-9.e+-]*\).*/\1/')
    printf 'ranking:\n  k1: 3.0\n  title_weight: 5\n' > "$T/rank.yaml"
    tuned=$(newsq --config "$T/rank.yaml" --json -n 1 nato | sed 's/.*"score":\([0-9.e+-]*\).*/\1/')
    [ -n "$base" ] && [ -n "$tuned" ]
    [ "$base" != "$tuned" ]
    printf 'ranking:\n  k9: 1\n' > "$T/bad.yaml"
    run newsq --config "$T/bad.yaml" nato
    [ "$status" -eq 2 ]
    [[ "$output" == *"k9"* ]]
}
