#!/bin/bash
# nightly's "known_bad" job key, without VMs or kernel builds: stand-ins for
# vm-run.sh (every boot gives the same demo record, so the A/B finds nothing)
# and known-bad.sh (records its arguments, exits as told).  A known-bad run
# that missed a defect (exit 1) must make nightly exit 1 although the A/B is
# clean; a clean known-bad run leaves exit 0; the job's source, config and
# names must reach known-bad.sh.
# usage: nightly-known-bad.sh MMTORTURE DATADIR
. "$(dirname "$0")/lib.sh"
MMT=$1 DATA=$2
need_jq
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/kdir"
cat >"$out/kdir/vm-run.sh" <<'SH'
#!/bin/bash
while [ $# -gt 0 ]; do
	case $1 in
	--results) R=$2; shift 2 ;; --run-id) ID=$2; shift 2 ;;
	--) shift; break ;; *) shift ;;
	esac
done
mkdir -p "$R/$ID"
jq --arg id "$ID" '.run_id = $id' "$MMT_TEST_TEMPLATE" >"$R/$ID/demo.json"
SH
cat >"$out/kdir/known-bad.sh" <<'SH'
#!/bin/bash
echo "$*" >"$KB_ARGS"
exit "${KB_EXIT:-0}"
SH
export MMT_KERNEL_DIR=$out/kdir MMT_TEST_TEMPLATE=$DATA/runs/base/demo.json KB_ARGS=$out/kb.args
: >"$out/base"
: >"$out/patched"
jq -n --arg b "$out/base" --arg p "$out/patched" --arg r "$out/res" '{
	kernels: [{image: $b}, {image: $p}], results: $r, build_dir: "/var/tmp/kb-none",
	repeat: 3, max_repeat: 3, confirm: false, run_args: ["demo"],
	known_bad: {source: "/src/linux.tar.xz", config: "debug", series: ["one", "two"]}}' >"$out/job.json"

KB_EXIT=1 "$MMT" nightly --config "$out/job.json" >"$out/log1" 2>&1
rc=$?
[ $rc = 1 ] || { cat "$out/log1"; fail "a missed known-bad defect: nightly exit $rc, want 1"; }
want="--source /src/linux.tar.xz -o /var/tmp/kb-none --results $out/res --config debug one two"
[ "$(cat "$out/kb.args")" = "$want" ] ||
	fail "known-bad.sh got '$(cat "$out/kb.args")', want '$want'"
ok "a missed defect pages (exit 1); known-bad.sh got the job's source, config and names"

rm -rf "$out/res"
KB_EXIT=0 "$MMT" nightly --config "$out/job.json" >"$out/log0" 2>&1
rc=$?
[ $rc = 0 ] || { cat "$out/log0"; fail "clean A/A and all defects caught: nightly exit $rc, want 0"; }
ok "all defects caught and a clean A/B: exit 0"

jq 'del(.known_bad.source)' "$out/job.json" >"$out/bad.json"
"$MMT" nightly --config "$out/bad.json" >"$out/log2" 2>&1
rc=$?
[ $rc = 99 ] || fail "known_bad without source: exit $rc, want 99"
grep -q 'needs "source"' "$out/log2" || fail "known_bad without source: no one-line reason"
ok "known_bad without source: a one-line error, exit 99"
echo "3 passed, 0 failed"
