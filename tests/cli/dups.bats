#!/usr/bin/env bats
# dups.bats - near-duplicate detection with the real binaries: the add summary, stats,
# `newsidx dups` (text and JSON), --skip-near-duplicates, thresholds from the command line
# and the configuration, and clusters after rm and compact. The stories are written here.

setup() {
    ROOT=${NEWSIDX_ROOT:-$PWD}
    BIN=${NEWSIDX_BIN:-$ROOT/build/asan}
    T=$(mktemp -d)
    IX=$T/index
    export NEWSIDX_INDEX=$IX
    export NEWSIDX_CONFIG=
    export XDG_CONFIG_HOME=$T/xdg
    cd "$T"
    BODY="The harbour authority said on Tuesday that the new container terminal would open \
two months late because cranes ordered from an overseas supplier had been held up by a \
shortage of steel castings. Shipping lines that had booked berths for the spring were told \
to expect written notice of revised dates within a fortnight. A spokeswoman for the dock \
workers union welcomed the delay, saying training for the automated equipment had barely \
started, while local traders warned that congestion on the old quay would push up costs \
for importers of fruit and building materials through the summer season."
    OTHER="Volunteers counted more than four hundred wading birds on the estuary mudflats \
during the annual winter survey, the highest number recorded since the count began. \
Organisers credited a mild autumn and the closure of a footpath that had disturbed roosting \
flocks, and they asked walkers to keep dogs on leads near the salt marsh until the end of \
March when most of the visiting species leave again for their northern breeding grounds."
    {
        printf '{"id":"wire-1","title":"Terminal opening delayed","source":"Wire","body":"%s"}\n' "$BODY"
        printf '{"id":"paper-1","title":"Cranes hold up new port terminal","source":"Daily","body":"PORTSMOUTH - %s"}\n' "$BODY"
        printf '{"id":"paper-2","title":"Dock delay","source":"Weekly","body":"%s Officials declined to give a new date."}\n' "$BODY"
        printf '{"id":"birds-1","title":"Bird count","source":"Daily","body":"%s"}\n' "$OTHER"
    } > news.jsonl
}

teardown() {
    cd /
    rm -rf "$T"
}

newsidx() { "$BIN/newsidx" "$@"; }

@test "add counts rewrites under other ids as near-duplicates and keeps them" {
    run newsidx add -v news.jsonl
    [ "$status" -eq 0 ]
    [[ "$output" == *"added 4, replaced 0, duplicates skipped 0, near-duplicates 2 (kept)"* ]]
    run newsidx stats
    [ "$status" -eq 0 ]
    [[ "$output" == *"articles            4"* ]]
    [[ "$output" == *"near-duplicates     3 articles in 1 clusters (similarity >= 0.80)"* ]]
    run newsidx stats --json
    [[ "$output" == *'"near_duplicates":{"articles":3,"clusters":1,"threshold":0.80}'* ]]
}

@test "dups lists the cluster with ids, titles and similarities, not the unrelated story" {
    newsidx add news.jsonl
    run newsidx dups
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "cluster 1: 3 articles" ]
    [ "${lines[1]}" = "  1.00  wire-1  Terminal opening delayed" ]
    # one new shingle (the dateline) in 87: J = 0.99; one added sentence: J = 0.91
    [[ "${lines[2]}" =~ ^\ \ (0\.9[0-9]|1\.00)\ \ paper-1\ \ Cranes\ hold\ up\ new\ port\ terminal$ ]]
    [[ "${lines[3]}" =~ ^\ \ 0\.(8|9)[0-9]\ \ paper-2\ \ Dock\ delay$ ]]
    [ "${lines[4]}" = "1 clusters, 3 articles (similarity >= 0.80)" ]
    [[ "$output" != *birds-1* ]]
}

@test "dups --json prints one cluster per line with every member" {
    newsidx add news.jsonl
    run newsidx dups --json
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "${lines[0]}" == '{"cluster":1,"size":3,"articles":[{"id":"wire-1","title":"Terminal opening delayed","source":"Wire","timestamp":null,"similarity":1.0000}'* ]]
    [[ "${lines[0]}" == *'"id":"paper-1"'*'"id":"paper-2"'* ]]
    [[ "${lines[0]}" == *']}' ]]
    if command -v python3 > /dev/null; then
        printf '%s\n' "${lines[0]}" | python3 -c 'import json,sys; c=json.load(sys.stdin); assert all(0.8 <= a["similarity"] <= 1 for a in c["articles"])'
    fi
}

@test "an index without near-duplicates lists none" {
    head -1 news.jsonl > one.jsonl
    tail -1 news.jsonl >> one.jsonl
    newsidx add one.jsonl
    run newsidx dups
    [ "$status" -eq 0 ]
    [ "$output" = "0 clusters, 0 articles (similarity >= 0.80)" ]
    run newsidx dups --json
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    # bodies too short to sketch: no band keys at all
    rm -rf "$IX"
    printf '{"id":"s1","title":"Brief","body":"Short item"}\n{"id":"s2","title":"Other","body":"Short item"}\n' > short.jsonl
    newsidx add short.jsonl
    run newsidx dups
    [ "$status" -eq 0 ]
    [ "$output" = "0 clusters, 0 articles (similarity >= 0.80)" ]
    run newsidx stats
    [ "$status" -eq 0 ]
    [[ "$output" == *"near-duplicates     0 articles in 0 clusters"* ]]
}

@test "--skip-near-duplicates leaves the rewrites out of the index" {
    run newsidx add -v --skip-near-duplicates news.jsonl
    [ "$status" -eq 0 ]
    [[ "$output" == *"near-duplicates 2 (skipped)"* ]]
    run newsidx stats --json
    [[ "$output" == *'"articles":2,'* ]]
    run newsidx dups
    [ "${lines[0]}" = "0 clusters, 0 articles (similarity >= 0.80)" ]
}

@test "the threshold comes from the command line or the configuration and is checked" {
    newsidx add news.jsonl
    run newsidx dups --threshold 1
    [ "$status" -eq 0 ]
    [[ "${lines[-1]}" == *"(similarity >= 1.00)" ]]
    run newsidx dups --threshold 0.3
    [ "$status" -eq 2 ]
    [[ "$output" == *"--threshold takes a similarity from 0.5 to 1"* ]]
    run newsidx add --near-threshold 2 news.jsonl
    [ "$status" -eq 2 ]
    printf 'near_duplicates:\n  threshold: 0.4\n' > bad.yaml
    run newsidx --config bad.yaml dups
    [ "$status" -eq 2 ]
    [[ "$output" == *"bad.yaml:2"*"near_duplicates.threshold"* ]]
    printf 'near_duplicates:\n  skip: true\n  treshold: 0.9\n' > typo.yaml
    run newsidx --config typo.yaml dups
    [ "$status" -eq 2 ]
    [[ "$output" == *'unknown key "near_duplicates.treshold"'* ]]
    printf 'near_duplicates:\n  threshold: 0.85\n  skip: true\n' > ok.yaml
    rm -rf "$IX"
    run newsidx --config ok.yaml add -v news.jsonl
    [ "$status" -eq 0 ]
    [[ "$output" == *"near-duplicates 2 (skipped)"* ]]
    run newsidx --config ok.yaml stats
    [[ "$output" == *"(similarity >= 0.85)"* ]]
}

@test "clusters follow deletions and survive compaction" {
    newsidx add news.jsonl
    printf '{"id":"birds-2","title":"Winter survey","body":"%s"}\n' "$OTHER" > more.jsonl
    newsidx add more.jsonl
    run newsidx dups
    [ "$status" -eq 0 ]
    [[ "$output" == *"2 clusters, 5 articles"* ]]
    newsidx rm paper-1
    newsidx compact
    run newsidx dups
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "cluster 1: 2 articles" ]
    [[ "$output" != *paper-1* ]]
    [[ "$output" == *"birds-2"* ]]
    [[ "$output" == *"2 clusters, 4 articles"* ]]
    run newsidx check
    [ "$status" -eq 0 ]
}

@test "dups on a missing index is exit 3" {
    run newsidx dups
    [ "$status" -eq 3 ]
    [[ "$output" == *"no index at"* ]]
}
