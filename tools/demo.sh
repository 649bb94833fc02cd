#!/bin/sh
# demo.sh - `make demo`: index samples/ into a throw-away index and run a few queries.
# Saved pages carry no date, so the demo gives the .txt samples a fixed mtime (the rule:
# an undated page takes its file's mtime) on a temporary copy.
set -eu
bin=build
tmp=$(mktemp -d "${TMPDIR:-/tmp}/newsidx-demo.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp -R samples "$tmp/samples"
for f in "$tmp"/samples/*.txt; do
    touch -d "2025-02-13 09:00:00Z" "$f"
done
run() {
    echo "\$ $*"
    "$@" || true
    echo
}
cd "$tmp"
run "$OLDPWD/$bin/newsidx" --index "$tmp/index" add -v samples
run "$OLDPWD/$bin/newsidx" --index "$tmp/index" stats
run "$OLDPWD/$bin/newsq" --index "$tmp/index" -n 3 "NATO Ukraine"
run "$OLDPWD/$bin/newsq" --index "$tmp/index" -n 2 '"peace talks"' --since 2025-02-15
run "$OLDPWD/$bin/newsq" --index "$tmp/index" --json -n 1 'inflation OR rates'
