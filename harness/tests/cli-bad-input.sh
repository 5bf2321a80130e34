#!/bin/bash
# Bad input gets a one-line error naming the problem and exit 99, never a crash.
# usage: cli-bad-input.sh MMTORTURE WORKLOAD
. "$(dirname "$0")/lib.sh"
MMT=$1 WL=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

check() {
	local want=$1; shift
	"$MMT" "$@" >"$out/stdout" 2>"$out/stderr" </dev/null
	local rc=$? lines
	lines=$(wc -l <"$out/stderr")
	[ "$rc" = 99 ] || fail "'$*' exited $rc, want 99 ($(cat "$out/stderr"))"
	[ "$lines" = 1 ] || fail "'$*' printed $lines lines on stderr, want 1: $(cat "$out/stderr")"
	grep -q -- "$want" "$out/stderr" || fail "'$*' error '$(cat "$out/stderr")' does not mention '$want'"
	[ -s "$out/stdout" ] && fail "'$*' printed on stdout: $(cat "$out/stdout")"
	ok "mmtorture $* -> 99: $(cat "$out/stderr")"
}

check "unknown workload 'no-such-workload'" run no-such-workload
check "invalid --duration '-3'" run "$WL" -d -3
check "invalid --duration 'abc'" run "$WL" -d abc
check "invalid --duration '0'" run "$WL" -d 0
check "invalid --workers '0'" run "$WL" -w 0
check "invalid --workers '2x'" run "$WL" -w 2x
check "invalid --workers '99999999999999999999'" run "$WL" -w 99999999999999999999
check "invalid --repeat '-1'" run "$WL" --repeat -1
check "invalid --inject 'bogus'" run "$WL" --inject bogus
check "unknown parameter 'nope'" run "$WL" -p nope=1
check "expected NAME=VALUE" run "$WL" -p novalue
check "no such online NUMA node" run "$WL" --cpu-node 4000
check "invalid --mem-node 'x'" run "$WL" --mem-node x
check "needs a value" run "$WL" -d
check "unknown option" run "$WL" --frobnicate
check "unknown or empty suite 'nosuch'" run --suite nosuch
check "unknown command 'frobnicate'" frobnicate
check "unexpected argument" list extra
check "unexpected argument" info extra
check "unexpected argument" restore extra
check "unknown command 'nosuch'" help nosuch

# and --help works and matches the options the parser takes
"$MMT" --help >/dev/null || fail "--help exited $?"
for c in list run info restore; do
	"$MMT" "$c" --help >"$out/help" || fail "$c --help exited $?"
	"$MMT" help "$c" | cmp -s - "$out/help" || fail "help $c differs from $c --help"
done
for opt in $("$MMT" run --help | grep -oE -- '--[a-z-]+' | sort -u); do
	[ "$opt" = --help ] && continue
	# "x" is the option's value or a workload name; nothing can start running
	"$MMT" run "$opt" x no-such-workload >"$out/stdout" 2>"$out/stderr" </dev/null
	grep -q "unknown option" "$out/stderr" && fail "run --help documents $opt but run rejects it"
done
ok "--help for every command; every documented run option is accepted"
echo "1 passed, 0 failed"
