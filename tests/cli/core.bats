#!/usr/bin/env bats
# core.bats - the real newsidx and newsq binaries end to end: add, replace by id, queries,
# JSON output, bad inputs and exit codes.

setup() {
    ROOT=${NEWSIDX_ROOT:-$PWD}
    BIN=${NEWSIDX_BIN:-$ROOT/build/asan}
    T=$(mktemp -d)
    IX=$T/index
    export NEWSIDX_INDEX=$IX
}

teardown() {
    rm -rf "$T"
}

newsidx() { "$BIN/newsidx" "$@"; }
newsq() { "$BIN/newsq" "$@"; }

articles() {
    newsidx stats --json | sed -n 's/^{"articles":\([0-9]*\).*/\1/p'
}

@test "add indexes the samples and newsq ranks NATO stories first" {
    run newsidx add "$ROOT/samples"
    [ "$status" -eq 0 ]
    [ "$(articles)" -eq 12 ]
    run newsq -n 1 --format ids "NATO Ukraine"
    [ "$status" -eq 0 ]
    [ "$output" = "samples/nato-ministers-ukraine-membership.txt" ]
}

@test "the saved page sample keeps teasers out of the body" {
    [ -f "$ROOT/../shared/samples/thehill-hegseth-nato-ukraine.txt" ] || skip "no shared samples"
    run newsidx add "$ROOT/../shared/samples/thehill-hegseth-nato-ukraine.txt"
    [ "$status" -eq 0 ]
    run newsq --json hegseth
    [ "$status" -eq 0 ]
    [[ "$output" == *'"title":"Hegseth rules out NATO membership for Ukraine in peace deal with Russia"'* ]]
    [[ "$output" == *'"source":"The Hill"'* ]]
    run newsq inflation
    [ "$status" -eq 1 ]
    run newsq '"Larry Summers"'
    [ "$status" -eq 1 ]
}

@test "adding an existing id replaces the article" {
    printf '{"id":"a1","title":"Old title","body":"first version about tariffs"}\n' > "$T/a.jsonl"
    printf '{"id":"a1","title":"New title","body":"second version about quotas"}\n' > "$T/b.jsonl"
    newsidx add "$T/a.jsonl"
    newsidx add "$T/b.jsonl"
    [ "$(articles)" -eq 1 ]
    run newsq tariffs
    [ "$status" -eq 1 ]
    run newsq --json quotas
    [ "$status" -eq 0 ]
    [[ "$output" == *'"title":"New title"'* ]]
}

@test "stdin and --source and --format" {
    printf 'A title from stdin\n\nBody text about shipyards.\n' | newsidx add --format page --source "Pipe News" -
    run newsq --json shipyards
    [ "$status" -eq 0 ]
    [[ "$output" == *'"source":"Pipe News"'* ]]
    [[ "$output" == *'"title":"A title from stdin"'* ]]
}

@test "json output has every field and escapes control characters" {
    printf '{"id":"j1","title":"Quote \\" and tab\\t","source":"S","timestamp":"2025-02-12T10:00:00Z","url":"https://x.test/1","body":"line one\\nline two \\u0001 zebra"}\n' > "$T/j.jsonl"
    newsidx add "$T/j.jsonl"
    run newsq --json zebra
    [ "$status" -eq 0 ]
    for k in id rank score title source timestamp url snippet; do
        [[ "$output" == *"\"$k\":"* ]]
    done
    [[ "$output" == *'"timestamp":"2025-02-12T10:00:00Z"'* ]]
    [[ "$output" != *$'\t'* ]]
    [[ "$output" != *$'\x01'* ]]
}

@test "a record without a date has a null timestamp" {
    printf '{"id":"n1","title":"Undated","body":"walrus"}\n' > "$T/n.jsonl"
    newsidx add "$T/n.jsonl"
    run newsq --json walrus
    [[ "$output" == *'"timestamp":null'* ]]
}

@test "bad inputs are reported with file and line, skipped, and the rest is indexed" {
    mkdir "$T/in"
    printf '{"id":"ok1","title":"Good","body":"penguin colony"}\n{"id":"bad", "title": }\n{"id":"ok2","title":"Also good","body":"penguin march"}\n' > "$T/in/mixed.jsonl"
    printf 'Title\n\nbad \xff\xfe bytes\n' > "$T/in/badutf8.txt"
    printf 'Title\n\nnul \000 byte\n' > "$T/in/nul.txt"
    : > "$T/in/empty.txt"
    printf -- '---\ntitle: [unclosed\n---\nbody\n' > "$T/in/broken.md"
    head -c 3000 /dev/urandom > "$T/in/binary.txt"
    run newsidx add "$T/in"
    [ "$status" -eq 1 ]
    [[ "$output" == *"mixed.jsonl:2:"* ]]
    [[ "$output" == *"badutf8.txt"*"invalid UTF-8"* ]]
    [[ "$output" == *"nul.txt"* ]]
    [[ "$output" == *"empty.txt"* ]]
    [[ "$output" == *"broken.md:"* ]]
    [[ "$output" == *"binary.txt"* ]]
    [ "$(articles)" -eq 2 ]
    run newsidx check
    [ "$status" -eq 0 ]
}

@test "a 50 MB single line is skipped without taking the batch down" {
    printf '{"id":"big","title":"x","body":"' > "$T/big.jsonl"
    head -c 50000000 /dev/zero | tr '\0' 'a' >> "$T/big.jsonl"
    printf '"}\n{"id":"small","title":"Small","body":"narwhal"}\n' >> "$T/big.jsonl"
    run newsidx add "$T/big.jsonl"
    [ "$status" -eq 1 ]
    [[ "$output" == *"big.jsonl:1:"* ]]
    run newsq --format ids narwhal
    [ "$output" = "small" ]
}

@test "exit codes: no hits 1, bad query 2 with a caret, unknown command 2, no index" {
    newsidx add "$ROOT/samples"
    run newsq zzzznotaword
    [ "$status" -eq 1 ]
    run newsq '"unclosed phrase'
    [ "$status" -eq 2 ]
    [[ "$output" == *"^"* ]]
    run newsidx frobnicate
    [ "$status" -eq 2 ]
    run "$BIN/newsidx" --index "$T/nothing" stats
    [ "$status" -eq 3 ]
    [[ "$output" == *"no index"* ]]
    run "$BIN/newsq" --index "$T/nothing" nato
    [ "$status" -eq 3 ]
}

@test "phrases do not match across the title and body boundary" {
    printf '{"id":"p1","title":"Talks about walrus","body":"colony news here"}\n' > "$T/p.jsonl"
    newsidx add "$T/p.jsonl"
    run newsq '"walrus colony"'
    [ "$status" -eq 1 ]
    run newsq '"talks about walrus"'
    [ "$status" -eq 0 ]
}

@test "--count, -n and --any" {
    newsidx add "$ROOT/samples"
    run newsq --count nato
    [ "$status" -eq 0 ]
    [ "$output" -ge 3 ]
    run newsq --format ids -n 2 nato
    [ "$(echo "$output" | wc -l)" -eq 2 ]
    all=$(newsq --count nato inflation || true)
    any=$(newsq --count --any nato inflation)
    [ "$any" -gt "${all:-0}" ]
}

@test "corpus: BBC indexes with one skipped file and answers queries" {
    [ -d "$ROOT/../shared/corpora/bbc/business" ] || skip "no corpora"
    run newsidx add "$ROOT/../shared/corpora/bbc/business" "$ROOT/../shared/corpora/bbc/tech"
    [ "$status" -eq 0 ] || [ "$status" -eq 1 ]
    run newsidx check
    [ "$status" -eq 0 ]
    run newsq -n 3 --format ids '"stock market"'
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | wc -l)" -eq 3 ]
}

@test "the default index location is created under a new home" {
    unset NEWSIDX_INDEX
    mkdir "$T/home"
    HOME="$T/home" XDG_DATA_HOME= run "$BIN/newsidx" add "$ROOT/samples"
    [ "$status" -eq 0 ]
    [ -f "$T/home/.local/share/newsidx/MANIFEST" ]
    HOME="$T/home" XDG_DATA_HOME= run "$BIN/newsq" --count nato
    [ "$status" -eq 0 ]
}
