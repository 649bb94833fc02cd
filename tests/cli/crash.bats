#!/usr/bin/env bats
# crash.bats - crash safety and reader concurrency with the real binaries and the Reuters
# corpus (JSON Lines at $NEWSIDX_REUTERS_JSONL, set by tests/run-all.sh; skipped without).
#
# The corpus prefix (1,100 articles) is cut into batches of 100. Reference indexes ref0
# (batch 0) .. ref10 (batches 0-10) are built once, each by adding one batch to a copy of
# the previous one, and fingerprinted: article count, match counts and top hits (ids and
# scores) of fixed queries, and a checksum of `newsidx export` (every stored field of every
# article, in index order). Every test starts from ref0 or ref5 and compares what it finds
# after a crash, a failed write or during a concurrent read with these fingerprints.
#
# Crash points are exact: NEWSIDX_FAULT="any:N:crash" makes the writer _exit(137) right
# before its Nth write, fsync or rename (what kill -9 at that moment leaves on disk), so
# every failure is reproducible by its N. A few real kill -9 at random times add realism.
#
# Binaries: readers and `check` always run $NEWSIDX_BIN (sanitized under `make check`).
# The writers that are killed or failed on purpose run $CRASH_BIN: the release build when
# it is current (what is tested is what reaches the disk, not memory errors, and it is
# twice as fast), else $NEWSIDX_BIN.

B=100      # articles per batch (= --commit-every)
NB=10      # batches after the base batch

setup_file() {
    ROOT=${NEWSIDX_ROOT:-$PWD}
    BIN=${NEWSIDX_BIN:-$ROOT/build/asan}
    CRASH_BIN=$BIN
    rel=$ROOT/build
    if [ -x "$rel/newsidx" ] && [ "$rel/newsidx" -nt "$rel/librel.a" ] &&
        [ "$rel/newsidx" -nt "$ROOT/indexer/newsidx.c" ]; then
        CRASH_BIN=$rel
    fi
    W=$BATS_FILE_TMPDIR
    export ROOT BIN CRASH_BIN W
    [ -f "${NEWSIDX_REUTERS_JSONL:-}" ] || return 0
    export NEWSIDX_CONFIG=$W/newsidx.yaml
    : > "$NEWSIDX_CONFIG"
    # the two builds must agree on the format (one may be stale while sources change)
    head -n 5 "$NEWSIDX_REUTERS_JSONL" > "$W/probe.jsonl"
    if ! "$CRASH_BIN/newsidx" --index "$W/probe" add "$W/probe.jsonl" 2> /dev/null ||
        ! "$BIN/newsidx" --index "$W/probe" check > /dev/null 2>&1; then
        CRASH_BIN=$BIN
    fi
    printf 'merge:\n  factor: 3\n' > "$NEWSIDX_CONFIG" # merges inside most commits
    head -n $((B * (NB + 1))) "$NEWSIDX_REUTERS_JSONL" > "$W/all.jsonl"
    local k
    for ((k = 0; k <= NB; k++)); do
        sed -n "$((k * B + 1)),$(((k + 1) * B))p" "$W/all.jsonl" > "$W/batch$k.jsonl"
    done
    tail -n +$((B + 1)) "$W/all.jsonl" > "$W/rest.jsonl"
    "$BIN/newsidx" --index "$W/ref0" add "$W/batch0.jsonl"
    fingerprint "$W/ref0" > "$W/fp0"
    for ((k = 1; k <= NB; k++)); do
        cp -r "$W/ref$((k - 1))" "$W/ref$k"
        "$BIN/newsidx" --index "$W/ref$k" add "$W/batch$k.jsonl"
        fingerprint "$W/ref$k" > "$W/fp$k"
    done
}

setup() {
    [ -f "${NEWSIDX_REUTERS_JSONL:-}" ] || skip "no Reuters JSON Lines (NEWSIDX_REUTERS_JSONL)"
    export NEWSIDX_CONFIG=$W/newsidx.yaml
    export XDG_CONFIG_HOME=$W/xdg
    T=$(mktemp -d)
    IX=$T/index
    export NEWSIDX_INDEX=$IX
    cd "$T"
}

teardown() {
    [ -n "${T:-}" ] || return 0 # skipped in setup: nothing started, nothing to remove
    touch "$T/stop" # background readers and writers
    wait
    cd /
    rm -rf "$T"
}

QUERIES=(oil "bank OR rates" '"crude oil"' 'title:trade -japan')

# What a reader sees of index $1: counts, top hits with scores, and every stored article.
fingerprint() {
    local q
    NEWSIDX_INDEX=$1 "$BIN/newsidx" stats --json | grep -o '"articles":[0-9]*'
    for q in "${QUERIES[@]}"; do
        printf '%s: %s\n' "$q" "$(NEWSIDX_INDEX=$1 "$BIN/newsq" --count "$q")"
        NEWSIDX_INDEX=$1 "$BIN/newsq" --json -n 5 "$q" | sed 's/"snippet":.*//'
    done
    NEWSIDX_INDEX=$1 "$BIN/newsidx" export | md5sum
}

# generation of index $1 (default $IX)
generation() { sed -n 's/^generation //p' "${1:-$IX}/MANIFEST"; }
next_segment() { sed -n 's/^next-segment //p' "$IX/MANIFEST"; }

# Files of a commit that never completed: segments numbered from next-segment on.
uncommitted_segments() {
    local next f id n=0
    next=$(next_segment)
    for f in "$IX"/seg-*.nxs; do
        [ -e "$f" ] || continue
        id=${f##*/seg-}
        id=$((10#${id%.nxs}))
        [ "$id" -ge "$next" ] && n=$((n + 1))
    done
    echo "$n"
}

# Index files the MANIFEST does not name (leftovers), one a line.
unreferenced() {
    local f name id
    for f in "$IX"/seg-*; do
        [ -e "$f" ] || continue
        name=${f##*/}
        id=$((10#$(echo "$name" | sed 's/^seg-\([0-9]*\).*/\1/')))
        case "$name" in
        *.nxs) grep -q "^segment $id " "$IX/MANIFEST" || echo "$name" ;;
        *.del-*) grep -q "^segment $id [0-9]* [0-9]* ${name##*.del-}\$" "$IX/MANIFEST" ||
            echo "$name" ;;
        esac
    done
}

# The index is whole and is exactly reference $1.
is_ref() {
    run "$BIN/newsidx" check
    [ "$status" -eq 0 ] || { echo "check failed: $output"; return 1; }
    fingerprint "$IX" > fp.now
    cmp -s fp.now "$W/fp$1" || { echo "index differs from ref$1:"; diff fp.now "$W/fp$1"; return 1; }
}

@test "reference fingerprints differ from batch to batch" {
    for ((k = 1; k <= NB; k++)); do
        ! cmp -s "$W/fp$((k - 1))" "$W/fp$k"
        [ "$(head -1 "$W/fp$k")" != "$(head -1 "$W/fp$((k - 1))")" ]
    done
    # one add with ten commits ends where ten separate adds do
    cp -r "$W/ref0" "$IX"
    "$CRASH_BIN/newsidx" add --commit-every $B "$W/rest.jsonl"
    is_ref $NB
}

@test "kill -9 at every other I/O operation of a multi-commit add leaves the last complete commit" {
    gen0=$(generation "$W/ref0")
    points=0 merging=0 resumed=0 last=0
    for ((n = 1; ; n += 2)); do
        rm -rf "$IX"
        cp -r "$W/ref0" "$IX"
        NEWSIDX_FAULT=any:$n:crash run "$CRASH_BIN/newsidx" add --commit-every $B "$W/rest.jsonl"
        [ "$status" -eq 0 ] && break # N is past the run's last operation
        [ "$status" -eq 137 ] || { echo "any:$n:crash: exit $status: $output"; false; }
        points=$((points + 1))
        # commits are numbered: generation gen0 + k holds batches 0..k (the last commit of
        # the command, at the end of the input, adds nothing)
        k=$(($(generation) - gen0))
        [ "$k" -le $((NB + 1)) ]
        [ "$k" -gt $NB ] && k=$NB
        [ "$k" -ge "$last" ] || { echo "any:$n: commit $k after commit $last"; false; }
        last=$k
        # a crash inside a merging commit leaves its flushed batch and merge output behind
        [ "$(uncommitted_segments)" -ge 2 ] && merging=$((merging + 1))
        is_ref "$k" || { echo "after any:$n:crash"; false; }
        if [ $((points % 4)) -eq 1 ] && [ "$k" -lt $NB ]; then
            # the next writer removes the leftovers and the rest of the input completes it
            tail -n +$(((k + 1) * B + 1)) "$W/all.jsonl" > more.jsonl
            "$CRASH_BIN/newsidx" add --commit-every $B more.jsonl
            [ -z "$(unreferenced)" ] || { echo "leftovers after any:$n: $(unreferenced)"; false; }
            is_ref $NB
            resumed=$((resumed + 1))
        fi
    done
    echo "# add: $points crash points, $merging inside merges, $resumed resumed" >&3
    [ "$last" -eq $NB ]
    [ "$points" -ge 30 ]
    [ "$merging" -ge 3 ]
}

# Operation counts: with the default memory budget a command's I/O operations are the
# same on every run, so every N is reproducible. With --mem-budget 1 the builder flushes
# whenever its buffers pass 1 MiB, and since the segment writer compresses in background
# threads those buffer sizes (and so the segment boundaries and the count of operations)
# vary a little from run to run: those walks step over N, and each point is checked the
# same way, but a given N is not the same moment on every run.

# Run "newsidx $3..." on a copy of ref5 with FAULT set to $1 (e.g. any:7:crash), expecting
# exit $2; then the index must be ref5, or ref$NEW when the commit's MANIFEST rename had
# happened (only a crash after it, or a failure of the directory fsync that follows it).
# Counts points, old and new. Returns 2 when the command succeeded (N past its end).
fault_on_ref5() {
    local fault=$1 want=$2 msg
    shift 2
    rm -rf "$IX"
    cp -r "$W/ref5" "$IX"
    if [[ "$fault" == *:crash ]]; then
        NEWSIDX_FAULT=$fault run "$CRASH_BIN/newsidx" "$@"
    else
        NEWSIDX_FAULT=$fault NEWSIDX_FAULT_ERRNO=ENOSPC run "$CRASH_BIN/newsidx" "$@"
    fi
    [ "$status" -eq 0 ] && return 2
    [ "$status" -eq "$want" ] || { echo "$fault: exit $status: $output"; return 1; }
    msg=$output
    points=$((points + 1))
    if [ "$want" -eq 74 ]; then
        # one line naming the file: a segment, a bitmap, the manifest or the directory
        [[ "$msg" =~ ^newsidx:\ $IX(/seg-[0-9]+\.(nxs|del-[0-9]+)|/MANIFEST(\.tmp)?)?:\ (write|fsync|rename)\ failed:\ No\ space\ left\ on\ device$ ]] ||
            { echo "$fault: unexpected message: $msg"; return 1; }
    fi
    if [ "$(generation)" -eq "$(generation "$W/ref5")" ]; then
        is_ref 5 || { echo "after $fault: $msg"; return 1; }
        old=$((old + 1))
    else
        if [ "$want" -eq 74 ] && [ "$msg" != "newsidx: $IX: fsync failed: No space left on device" ]; then
            echo "$fault: a new generation is visible after: $msg"
            return 1
        fi
        is_ref "$NEW" || { echo "after $fault: $msg"; return 1; }
        new=$((new + 1))
    fi
}

# fault_on_ref5 with any:N[SUFFIX] for N = 1, 1 + STEP, ... until the command succeeds.
walk_ref5() {
    local suffix=$1 want=$2 n
    shift 2
    for ((n = 1; ; n += STEP)); do
        fault_on_ref5 "any:$n$suffix" "$want" "$@" && continue
        [ $? -eq 2 ] || return 1
        break
    done
    is_ref "$NEW" # the command that ran to the end
}

@test "kill -9 at the I/O operations of a rebuild leaves the old index or the whole new one" {
    points=0 old=0 new=0
    NEW=$NB STEP=1 walk_ref5 :crash 137 rebuild "$W/all.jsonl" # one segment, every N
    [ "$new" -ge 1 ] # killed after the MANIFEST rename, before the old files went
    # many flushed segments, merged at the commit: every third N
    NEW=$NB STEP=3 walk_ref5 :crash 137 rebuild --mem-budget 1 "$W/all.jsonl"
    echo "# rebuild: $points crash points ($old old index, $new new)" >&3
    [ "$points" -ge 15 ]
}

ms() { echo $(($(date +%s%N) / 1000000)); }

@test "real kill -9 at random moments of add and rebuild" {
    gen0=$(generation "$W/ref0")
    # how long each command runs uninterrupted, to kill it somewhere inside that time
    cp -r "$W/ref0" "$IX"
    t=$(ms)
    "$CRASH_BIN/newsidx" add --commit-every $B "$W/rest.jsonl"
    add_ms=$(($(ms) - t))
    t=$(ms)
    "$CRASH_BIN/newsidx" rebuild --mem-budget 1 "$W/all.jsonl"
    rebuild_ms=$(($(ms) - t))
    kills=0
    for i in $(seq 1 8); do
        rm -rf "$IX"
        if [ "$i" -le 6 ]; then
            cp -r "$W/ref0" "$IX"
            "$CRASH_BIN/newsidx" add --commit-every $B "$W/rest.jsonl" 3>&- &
            at=$((RANDOM % add_ms))
        else
            cp -r "$W/ref5" "$IX"
            "$CRASH_BIN/newsidx" rebuild --mem-budget 1 "$W/all.jsonl" 3>&- &
            at=$((RANDOM % rebuild_ms))
        fi
        pid=$!
        sleep "$((at / 1000)).$(printf '%03d' $((at % 1000)))"
        kill -9 "$pid" 2> /dev/null || true
        st=0
        wait "$pid" || st=$?
        [ "$st" -eq 137 ] && kills=$((kills + 1))
        k=$(($(generation) - gen0))
        [ "$k" -gt $NB ] && k=$NB
        if [ "$i" -gt 6 ]; then
            [ "$(generation)" -eq "$(generation "$W/ref5")" ] && k=5 || k=$NB
        fi
        is_ref "$k" || { echo "after kill $i at $at ms"; false; }
    done
    echo "# 8 writers killed at random times, $kills while running (add ${add_ms} ms, rebuild ${rebuild_ms} ms)" >&3
    [ "$kills" -ge 4 ]
}

@test "disk full at the I/O operations of add: exit 74 naming the file, previous index intact" {
    points=0 old=0 new=0
    cat "$W"/batch{6,7,8,9,10}.jsonl > more.jsonl
    # one segment merged with the two of ref5 at the commit: every N
    NEW=$NB STEP=1 walk_ref5 "" 74 add more.jsonl
    [ "$new" -eq 1 ] # only the directory fsync after the rename
    [ "$old" -ge 6 ]
    # flushes during the ingest and merges at the commit: every other N
    NEW=$NB STEP=2 walk_ref5 "" 74 add --mem-budget 1 more.jsonl
    echo "# add: $points disk-full points ($old old index, $new new)" >&3
    [ "$points" -ge 15 ]
}

@test "disk full at the I/O operations of rebuild: exit 74 naming the file, previous index intact" {
    points=0 old=0 new=0
    NEW=$NB STEP=1 walk_ref5 "" 74 rebuild "$W/all.jsonl"
    [ "$new" -eq 1 ]
    NEW=$NB STEP=3 walk_ref5 "" 74 rebuild --mem-budget 1 "$W/all.jsonl"
    echo "# rebuild: $points disk-full points ($old old index, $new new)" >&3
    [ "$points" -ge 15 ]
}

# Match counts of query $1 that a complete commit gives: its count in every reference.
allowed_counts() {
    awk -v q="$1: " 'index($0, q) == 1 { print substr($0, length(q) + 1) }' "$W"/fp[0-9]* |
        sort -un
}

# Query continuously until $T/stop exists; one line per query: query index, exit status,
# output. Errors go to $1.err.
reader() {
    local i=0 out st
    while [ ! -e "$T/stop" ]; do
        st=0
        out=$("$BIN/newsq" --count "${QUERIES[$((i % ${#QUERIES[@]}))]}" 2>> "$1.err") || st=$?
        printf '%d %d %s\n' $((i % ${#QUERIES[@]})) "$st" "$out" >> "$1"
        i=$((i + 1))
    done
}

# `newsidx check` in a loop: one line "STATUS" per run, output of failed runs in $1.err.
checker() {
    local st out
    while [ ! -e "$T/stop" ]; do
        st=0
        out=$("$BIN/newsidx" check 2>&1) || st=$?
        echo "$st" >> "$1"
        [ "$st" -eq 0 ] || printf '%s\n' "$out" >> "$1.err"
    done
}

@test "readers querying during add, compact and rebuild never fail and never see a partial index" {
    cp -r "$W/ref0" "$IX"
    reader r1 3>&- &
    r1=$!
    reader r2 3>&- &
    r2=$!
    checker c1 3>&- &
    c1=$!
    cycles=0
    while :; do # ref0 -> ten commits with merges -> ref10 -> compact -> rebuild to ref0
        "$BIN/newsidx" add --commit-every $B "$W/rest.jsonl"
        "$BIN/newsidx" compact
        "$BIN/newsidx" rebuild "$W/batch0.jsonl"
        cycles=$((cycles + 1))
        [ "$cycles" -ge 2 ] && [ "$(cat r1 r2 | wc -l)" -ge 1000 ] && break
        [ "$cycles" -lt 30 ]
    done
    touch "$T/stop"
    wait "$r1" "$r2" "$c1"
    cat r1 r2 > all
    total=$(wc -l < all)
    for ((i = 0; i < ${#QUERIES[@]}; i++)); do
        # exit 0 with the count of a complete commit, or exit 1 when that count is 0
        allowed_counts "${QUERIES[$i]}" | sed "s/^0\$/$i 1 0/; t; s/^/$i 0 /"
    done > ok
    failed=$(grep -cvxF -f ok all || true)
    distinct=$(sort -u all | wc -l)
    echo "# readers: $total queries over $cycles writer cycles, $failed failed, $distinct distinct answers" >&3
    [ "$failed" -eq 0 ] || { grep -vxF -f ok all | sort | uniq -c | head; false; }
    [ ! -s r1.err ] && [ ! -s r2.err ] || { cat r1.err r2.err | sort | uniq -c | head; false; }
    # a check that raced a commit re-checks the new manifest: never a false "missing"
    echo "# checks: $(wc -l < c1) runs of newsidx check, $(grep -cvx 0 c1 || true) not clean" >&3
    [ ! -s c1.err ] || { sort c1.err | uniq -c | head; false; }
    [ "$(wc -l < c1)" -ge 1 ]
    [ "$total" -ge 1000 ]
    [ "$distinct" -gt $((2 * ${#QUERIES[@]})) ] # the readers saw commits in the middle of add
}

@test "a reader slowed between reading MANIFEST and opening segments survives the switch" {
    strace -o /dev/null true 2> /dev/null || skip "strace is missing or cannot trace here"
    cp -r "$W/ref0" "$IX"
    cat "$W/batch0.jsonl" "$W/batch1.jsonl" > b01.jsonl
    (
        while [ ! -e "$T/stop" ]; do # a switch every 0.1 s, between ref1 and ref0
            "$CRASH_BIN/newsidx" rebuild b01.jsonl
            sleep 0.1
            "$CRASH_BIN/newsidx" rebuild "$W/batch0.jsonl"
            sleep 0.1
        done
    ) 3>&- &
    writer=$!
    allowed=$(allowed_counts oil | tr '\n' ' ')
    overlapped=0 failed=0
    for i in $(seq 1 30); do
        before=$(generation)
        # 50 ms after the MANIFEST is read and closed, before any segment is opened: a
        # rebuild's switch in between removes every file the manifest read names
        # (LeakSanitizer cannot run under ptrace)
        st=0
        ASAN_OPTIONS=detect_leaks=0 strace -o /dev/null -P "$IX/MANIFEST" -e trace=close \
            -e inject=close:delay_exit=50000 "$BIN/newsq" --count oil > out 2> err || st=$?
        [ "$(generation)" != "$before" ] && overlapped=$((overlapped + 1))
        if [ "$st" -ne 0 ] || [ -s err ] || [[ " $allowed" != *" $(cat out) "* ]]; then
            failed=$((failed + 1))
            echo "query $i: exit $st: $(cat out err)"
        fi
    done
    touch "$T/stop"
    wait "$writer"
    echo "# slowed reader: 30 queries, $overlapped during a switch, $failed failed" >&3
    [ "$failed" -eq 0 ]
    [ "$overlapped" -ge 5 ]
}
