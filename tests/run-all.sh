#!/bin/sh
# run-all.sh - runs every unit test binary, CLI bats file and corpus suite as TAP and prints
# the summary line "N passed, N failed[, N skipped]". Exit 1 when anything failed.
# Called by `make check` from the project root after the sanitized build.
set -u
export NEWSIDX_BIN="${NEWSIDX_BIN:-$PWD/build/asan}"
export NEWSIDX_TOOLS="${NEWSIDX_TOOLS:-$PWD/build/asan/tools}"
export NEWSIDX_ROOT="$PWD"
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
log=build/test-log.txt
: > "$log"
pass=0 fail=0 skip=0

# count TAP lines of one suite; $1 = suite name, $2 = exit status, stdin = TAP output
tally() {
    name=$1 status=$2 p=0 f=0 s=0
    while IFS= read -r line; do
        printf '%s\n' "$line" >> "$log"
        case "$line" in
        *"ok"*"# skip"*|*"ok"*"# SKIP"*) s=$((s + 1)) ;; # cmocka writes "not ok N # SKIP"
        "not ok"*) f=$((f + 1)); echo "FAIL $name: $line" ;;
        "ok"*) p=$((p + 1)) ;;
        esac
    done
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "FAIL $name: exited with status $status (see $log)"
    fi
    pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
    echo "  $name: $p passed, $f failed, $s skipped"
}

run_suite() {
    name=$1
    shift
    out=$(mktemp)
    echo "# $name" >> "$log"
    "$@" > "$out" 2>> "$log"
    status=$?
    tally "$name" "$status" < "$out"
    rm -f "$out"
}

# corpus tests read Reuters as JSON Lines; make it once per build when the corpora exist
reuters=../shared/corpora/reuters21578
if [ -d "$reuters" ] && [ -x build/reuters2jsonl ]; then
    mkdir -p build/corpus
    if [ ! -s build/corpus/reuters.jsonl ]; then
        build/reuters2jsonl "$reuters"/reut2-*.sgm > build/corpus/reuters.jsonl.tmp 2>/dev/null &&
            mv build/corpus/reuters.jsonl.tmp build/corpus/reuters.jsonl
    fi
    export NEWSIDX_REUTERS_JSONL="$PWD/build/corpus/reuters.jsonl"
fi

for t in build/asan/tests/*/test_*; do
    [ -x "$t" ] || continue
    run_suite "${t#build/asan/}" "$t"
done
for b in tests/cli/*.bats tests/corpus/*.bats; do
    [ -f "$b" ] || continue
    run_suite "$b" bats --tap "$b"
done

if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
