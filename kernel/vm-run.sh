#!/bin/bash
# vm-run.sh - boot a kernel under QEMU with an initramfs holding mmtorture,
# run `mmtorture run RUN-ARGS` inside, and bring the records back.
#
# usage: vm-run.sh --mmtorture PATH --kernel BZIMAGE [--cpus N] [--mem SIZE]
#                  [--numa N] [--hotplug-dimm SIZE] [--timeout SECONDS]
#                  [--results DIR] [--run-id ID] [--append ARGS] [--test-panic]
#                  [--bugs DIR] [--accel LIST] [--test-stall] [--peer SCRIPT] [-- RUN-ARGS...]
#
# The initramfs holds busybox (static), the mmtorture binary with the shared
# libraries it links (copied from the host, with the dynamic loader), and an
# init that mounts proc/sys/dev/debugfs/tmpfs, runs mmtorture, then streams a
# tar of the records as base64 over a second serial port (ttyS1): the 8250
# UART is built into every x86 distribution kernel, so no guest module or
# virtio driver is needed.  Console output goes to console.log beside the
# records.  With --bugs DIR, the kernel-bug reproducers DIR/repro-* (meson
# builds them in build/kernel/bugs) are packed too and run first, each one's
# output and exit code coming back under bugs/; without RUN-ARGS only they run.
# With --peer SCRIPT (a peer script such as workloads/hotplug-vmemmap-peer.sh), the script,
# stress-ng, strace and jq from the host (with their libraries) and the helpers meson builds
# beside mmtorture (workloads/mmt-*) are packed, and the guest runs
# `sh SCRIPT /usr/bin/mmtorture RUN-ARGS...` in its records directory instead of
# `mmtorture run`: relative paths in RUN-ARGS land beside the records.
# The accelerators of --accel (default kvm,tcg) are tried in order: when QEMU
# cannot use one (nested KVM fails on some hosts) or the accelerator stops the
# guest while QEMU stays alive ("KVM internal error ... emulation failure":
# QEMU's run state becomes internal-error), the same boot is retried with the
# next one.  A stopped guest is seen within seconds: QEMU's QMP monitor, on a
# pair of FIFOs (no socket tools needed), is asked for the run state once a
# second.  --test-stall stops the first guest on purpose through QMP once its
# init runs, to prove that.  vm.json says which accelerator ran, and
# every attempt before it with the reason it was given up.
#
# Exit: mmtorture's own exit code from the guest (bugs only: 1 when a
# reproducer showed its bug, else 0, 77 when none could run); 1 when the guest panicked,
# hung past the deadline or printed a splat on the console; 99 on bad usage
# or when QEMU could not start at all.
set -uo pipefail

die() { echo "mmtorture vm run: $*" >&2; exit 99; }

MMT= KERNEL= CPUS=2 MEM=3G NUMA=2 DIMM= TIMEOUT=900 RESULTS=results RUN_ID= APPEND= TEST_PANIC=0 BUGS=
ACCELS=kvm,tcg TEST_STALL=0 PEER=
while [ $# -gt 0 ]; do
	case "$1" in
	--mmtorture) MMT=${2:-}; shift 2 ;;
	--kernel) KERNEL=${2:-}; shift 2 ;;
	--cpus) CPUS=${2:-}; shift 2 ;;
	--mem) MEM=${2:-}; shift 2 ;;
	--numa) NUMA=${2:-}; shift 2 ;;
	--hotplug-dimm) DIMM=${2:-}; shift 2 ;;
	--timeout) TIMEOUT=${2:-}; shift 2 ;;
	--results) RESULTS=${2:-}; shift 2 ;;
	--run-id) RUN_ID=${2:-}; shift 2 ;;
	--append) APPEND=${2:-}; shift 2 ;;
	--test-panic) TEST_PANIC=1; shift ;;
	--bugs) BUGS=${2:-}; shift 2 ;;
	--accel) ACCELS=${2:-}; shift 2 ;;
	--test-stall) TEST_STALL=1; shift ;;
	--peer) PEER=${2:-}; shift 2 ;;
	--) shift; break ;;
	*) die "unknown option '$1' (see \`mmtorture vm --help\`)" ;;
	esac
done

[ -n "$KERNEL" ] || die "--kernel BZIMAGE is required"
[ -f "$KERNEL" ] || die "kernel image '$KERNEL' does not exist"
[ -x "$MMT" ] || die "mmtorture binary '$MMT' is not executable"
[[ "$CPUS" =~ ^[1-9][0-9]*$ ]] && [ "$CPUS" -le 64 ] || die "invalid --cpus '$CPUS': must be 1-64"
[[ "$NUMA" =~ ^[1-9][0-9]*$ ]] && [ "$NUMA" -le "$CPUS" ] && [ $((CPUS % NUMA)) = 0 ] ||
	die "invalid --numa '$NUMA': must divide --cpus ($CPUS): each node is one socket of CPUS/NUMA cores"
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "invalid --timeout '$TIMEOUT': seconds"
[[ "$ACCELS" =~ ^(kvm|tcg)(,(kvm|tcg))*$ ]] || die "invalid --accel '$ACCELS': a list such as kvm,tcg or tcg"
IFS=, read -r -a accel_list <<<"$ACCELS"
if [ -n "$BUGS" ]; then
	ls "$BUGS"/repro-* >/dev/null 2>&1 || die "--bugs '$BUGS': no repro-* reproducers there (meson builds them in build/kernel/bugs)"
fi
if [ -n "$PEER" ]; then
	[ -f "$PEER" ] || die "--peer '$PEER': no such script"
	for t in stress-ng strace jq; do
		command -v $t >/dev/null || die "--peer needs $t on the host (apt-get install $t)"
	done
fi
[ $# -gt 0 ] || [ -n "$BUGS" ] || [ -n "$PEER" ] || die "nothing to run: give -- RUN-ARGS, --bugs DIR or --peer SCRIPT"
to_mib() {	# 3G, 512M, 3072 (MiB) -> MiB
	case "$1" in
	*[gG]) echo $((${1%[gG]} * 1024)) ;;
	*[mM]) echo "${1%[mM]}" ;;
	*) echo "$1" ;;
	esac
}
MEM_MIB=$(to_mib "$MEM")
[[ "$MEM_MIB" =~ ^[0-9]+$ ]] && [ "$MEM_MIB" -ge 256 ] || die "invalid --mem '$MEM': e.g. 3G or 2048M (at least 256M)"
DIMM_MIB=0
if [ -n "$DIMM" ]; then
	DIMM_MIB=$(to_mib "$DIMM")
	[[ "$DIMM_MIB" =~ ^[0-9]+$ ]] && [ "$DIMM_MIB" -ge 128 ] && [ $((DIMM_MIB % 128)) = 0 ] ||
		die "invalid --hotplug-dimm '$DIMM': a multiple of 128M (memory block size), e.g. 1G"
fi
for t in qemu-system-x86_64 cpio gzip jq; do
	command -v $t >/dev/null || die "$t is not installed (apt-get install qemu-system-x86 cpio)"
done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 || die "a static busybox is needed (apt-get install busybox-static)"

[ -n "$RUN_ID" ] || RUN_ID="$(date -u +%Y%m%d-%H%M%S)-vm-$(basename "$KERNEL")"
OUT="$RESULTS/$RUN_ID"
mkdir -p "$OUT" || die "cannot create $OUT"
# not /tmp/mmtorture-*: that is where runs keep temp dirs the state tests count
WORK=$(mktemp -d /tmp/mmt-vm.XXXXXX)
QPID=
cleanup() { [ -n "$QPID" ] && kill -9 "$QPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'echo "mmtorture vm run: interrupted"; exit 99' INT TERM

# ---- initramfs ---------------------------------------------------------
ROOT=$WORK/root
mkdir -p "$ROOT"/{bin,sbin,proc,sys,dev,tmp,run,results,usr/bin,etc}
cp "$BUSYBOX" "$ROOT/bin/busybox"
cp "$MMT" "$ROOT/usr/bin/mmtorture"
# the shared libraries mmtorture links, and the dynamic loader, at their host paths
ldd "$MMT" | grep -oE '/[^ ]+\.so[^ ]*' | sort -u | while read -r lib; do
	mkdir -p "$ROOT$(dirname "$lib")"
	cp -L "$lib" "$ROOT$lib"
done
# the known-bug list, so that the guest's verdicts say XFAIL too
mkdir -p "$ROOT/etc/mmtorture"
KLIST="$(dirname "$(realpath "$0")")/bugs/known-bugs.json"
[ -f "$KLIST" ] && cp "$KLIST" "$ROOT/etc/mmtorture/known-bugs.json"
# the kernel-bug reproducers, with whatever shared libraries they link
if [ -n "$BUGS" ]; then
	mkdir -p "$ROOT/usr/libexec/mmtorture-bugs"
	for r in "$BUGS"/repro-*; do
		[ -f "$r" ] && [ -x "$r" ] || continue
		cp "$r" "$ROOT/usr/libexec/mmtorture-bugs/"
		ldd "$r" | grep -oE '/[^ ]+\.so[^ ]*' | sort -u | while read -r lib; do
			[ -e "$ROOT$lib" ] && continue
			mkdir -p "$ROOT$(dirname "$lib")"
			cp -L "$lib" "$ROOT$lib"
		done
	done
fi
# a peer script, the tools it runs beside mmtorture, and mmtorture's own helpers
pack_bin() {	# host binary -> same path in the guest, with its shared libraries
	mkdir -p "$ROOT$(dirname "$1")"
	cp -L "$1" "$ROOT$1"
	ldd "$1" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*' | sort -u | while read -r lib; do
		[ -e "$ROOT$lib" ] && continue
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
}
if [ -n "$PEER" ]; then
	mkdir -p "$ROOT/usr/libexec/mmtorture"
	cp "$PEER" "$ROOT/usr/libexec/mmtorture/peer.sh"
	for t in stress-ng strace jq; do
		pack_bin "$(command -v $t)"
	done
	mkdir -p "$ROOT/usr/bin/workloads"
	for h in "$(dirname "$MMT")"/workloads/mmt-*; do
		[ -f "$h" ] && [ -x "$h" ] || continue
		pack_bin "$(realpath "$h")"
		ln -sf "$(realpath "$h")" "$ROOT/usr/bin/workloads/${h##*/}"
	done
fi
# hwloc reads these at run time when present; harmless when absent
printf '%q ' "$@" >"$ROOT/etc/mmt-args"
NARGS=$#
echo $# >"$ROOT/etc/mmt-nargs"
echo "$RUN_ID" >"$ROOT/etc/mmt-run-id"
echo "$TEST_PANIC" >"$ROOT/etc/mmt-test-panic"
cat >"$ROOT/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
echo "mmtorture-vm: guest $(uname -r) up, $(grep -c ^processor /proc/cpuinfo) cpus, nodes: $(ls -d /sys/devices/system/node/node* | wc -l)"
# online any hot-plugged DIMM blocks the kernel left offline, movable so they can go offline again
for b in /sys/devices/system/memory/memory*/state; do
	[ "$(cat $b)" = offline ] && echo online_movable >$b 2>/dev/null
done
if [ "$(cat /etc/mmt-test-panic)" = 1 ]; then
	echo "mmtorture-vm: panicking on purpose (--test-panic)"
	echo 1 >/proc/sys/kernel/sysrq
	echo c >/proc/sysrq-trigger
fi
eval "set -- $(cat /etc/mmt-args)"
cd /
[ -f /etc/mmtorture/known-bugs.json ] && export MMT_KNOWN_BUGS=/etc/mmtorture/known-bugs.json
rid=$(cat /etc/mmt-run-id)
rc=77
if [ -d /usr/libexec/mmtorture-bugs ]; then
	mkdir -p "/results/$rid/bugs"
	for r in /usr/libexec/mmtorture-bugs/repro-*; do
		id=${r##*/repro-}
		echo "mmtorture-vm: bug $id"
		timeout 300 "$r" >"/results/$rid/bugs/$id.log" 2>&1
		brc=$?
		sed 's/^/  /' "/results/$rid/bugs/$id.log"
		echo $brc >"/results/$rid/bugs/$id.rc"
		echo "mmtorture-vm: bug $id: exit $brc"
		if [ $brc = 1 ] || [ $rc = 1 ]; then rc=1
		elif [ $brc = 0 ] || [ $rc = 0 ]; then rc=0
		fi
	done
fi
if [ -f /usr/libexec/mmtorture/peer.sh ]; then
	mkdir -p "/results/$rid"
	(cd "/results/$rid" && sh /usr/libexec/mmtorture/peer.sh /usr/bin/mmtorture "$@"
	 echo $? >/tmp/peer.rc) 2>&1 |
		tee "/results/$rid/peer.log"
	rc=$(cat /tmp/peer.rc 2>/dev/null || echo 99)
	echo "mmtorture-vm: peer script exited $rc"
elif [ "$(cat /etc/mmt-nargs)" -gt 0 ]; then
	mmtorture run -o /results --run-id "$rid" --lock-timeout 0 "$@"
	rc=$?
	echo "mmtorture-vm: mmtorture exited $rc"
fi
{
	echo "MMT-RESULTS-BEGIN"
	tar -C /results -cf - . | gzip | base64
	echo "MMT-RESULTS-END rc=$rc"
} >/dev/ttyS1
sync
poweroff -f
EOF
chmod +x "$ROOT/init"
(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initrd.gz" ||
	die "could not pack the initramfs"

# ---- QEMU ----------------------------------------------------------------
node_mib=$((MEM_MIB / NUMA))
args=(-M pc -cpu max -smp "$CPUS,sockets=$NUMA,cores=$((CPUS / NUMA)),threads=1" -display none -monitor none -no-reboot -nodefaults
      -kernel "$KERNEL" -initrd "$WORK/initrd.gz"
      -serial "file:$WORK/console.log" -serial "file:$WORK/results.b64")
if [ "$DIMM_MIB" -gt 0 ]; then
	args+=(-m "${MEM_MIB}M,slots=4,maxmem=$((MEM_MIB + DIMM_MIB))M")
else
	args+=(-m "${MEM_MIB}M")
fi
for ((n = 0; n < NUMA; n++)); do
	size=$node_mib
	[ $n = $((NUMA - 1)) ] && size=$((MEM_MIB - node_mib * (NUMA - 1)))
	lo=$((n * CPUS / NUMA)) hi=$(((n + 1) * CPUS / NUMA - 1))
	args+=(-object "memory-backend-ram,id=m$n,size=${size}M" -numa "node,nodeid=$n,cpus=$lo-$hi,memdev=m$n")
done
if [ "$DIMM_MIB" -gt 0 ]; then
	args+=(-object "memory-backend-ram,id=hp0,size=${DIMM_MIB}M"
	       -device "pc-dimm,id=dimm0,memdev=hp0,node=$((NUMA - 1))")
fi
cmdline="console=ttyS0 loglevel=5 panic=-1 oops=panic softlockup_panic=0 memhp_default_state=online_movable $APPEND"

# QMP on two FIFOs (QEMU's "pipe" chardev opens PATH.in and PATH.out read-write,
# so neither side blocks): the script asks for the run state once a second.
QIN= QOUT=
qmp_open() {
	rm -f "$WORK/qmp.in" "$WORK/qmp.out"
	mkfifo "$WORK/qmp.in" "$WORK/qmp.out" || return 1
	exec {QIN}<>"$WORK/qmp.in" {QOUT}<>"$WORK/qmp.out"
	echo '{"execute":"qmp_capabilities"}' >&"$QIN"
}
qmp_close() {
	[ -n "$QIN" ] && exec {QIN}>&- {QOUT}<&-
	QIN= QOUT=
}
qmp() {	# qmp COMMAND: send it, print the first "return" line (events are skipped)
	local line n=0
	echo "{\"execute\":\"$1\"}" >&"$QIN" 2>/dev/null || return 1
	while [ $n -lt 20 ] && read -r -t 1 -u "$QOUT" line; do
		n=$((n + 1))
		case "$line" in *'"return"'*'"status"'*|*'"error"'*) echo "$line"; return 0 ;; esac
	done
	return 1
}
qmp_state() {	# the guest's run state: running, paused, internal-error, ...
	qmp query-status | sed -n 's/.*"status": *"\([a-z-]*\)".*/\1/p'
}

# boot ACCEL: runs QEMU until it exits, the deadline passes (124) or the
# accelerator stops the guest while QEMU stays alive (125, $stall_reason).
stall_reason= stop_to_fallback=
boot() {
	: >"$WORK/console.log"
	: >"$WORK/results.b64"
	: >"$WORK/qemu.err"
	stall_reason= stop_to_fallback=
	qmp_open || return 99
	qemu-system-x86_64 -accel "$1" "${args[@]}" -chardev "pipe,id=qmp0,path=$WORK/qmp" \
		-mon chardev=qmp0,mode=control -append "$cmdline mmt.accel=$1" 2>"$WORK/qemu.err" &
	QPID=$!
	local start=$SECONDS shown=0 n st stopped_polls=0 stopped_at=
	while kill -0 $QPID 2>/dev/null; do
		if [ $((SECONDS - start)) -ge "$TIMEOUT" ]; then
			kill -9 $QPID 2>/dev/null
			wait $QPID 2>/dev/null
			QPID=
			qmp_close
			return 124
		fi
		# show the guest's mmtorture lines as progress
		n=$(wc -l <"$WORK/console.log")
		if [ "$n" -gt "$shown" ]; then
			sed -n "$((shown + 1)),${n}p" "$WORK/console.log" | grep -E '^(mmtorture|  |[a-z-]+: |run |records|== |cpu[0-9]| {8,}mem)' | sed 's/^/  guest| /'
			shown=$n
		fi
		# --test-stall: stop the first guest once its kernel runs, as a KVM
		# internal error would (QEMU stays alive, the vCPUs do not run)
		if [ "$TEST_STALL" = 1 ] && [ "$attempt" = 1 ] && [ -z "$stopped_at" ] &&
		   grep -q "mmtorture-vm: guest" "$WORK/console.log"; then
			qmp stop >/dev/null
			stopped_at=$SECONDS
			echo "mmtorture vm run: --test-stall: guest stopped through QMP"
		fi
		st=$(qmp_state)
		case "$st" in
		internal-error|io-error|paused) stopped_polls=$((stopped_polls + 1)) ;;
		*) stopped_polls=0 ;;
		esac
		if [ $stopped_polls -ge 2 ] || grep -q "KVM internal error" "$WORK/qemu.err"; then
			local qerr
			qerr=$(grep -m1 -E 'internal error|emulation failure' "$WORK/qemu.err" | cut -c1-120)
			stall_reason="the $1 accelerator stopped the guest (QEMU run state ${st:-unknown}) after $((SECONDS - start)) s${stopped_at:+ (--test-stall)}${qerr:+: $qerr}"
			[ -n "$stopped_at" ] && stop_to_fallback=$((SECONDS - stopped_at))
			kill -9 $QPID 2>/dev/null
			wait $QPID 2>/dev/null
			QPID=
			qmp_close
			return 125
		fi
		sleep 1
	done
	wait $QPID
	local rc=$?
	QPID=
	qmp_close
	sed -n "$((shown + 1)),\$p" "$WORK/console.log" | grep -E '^(mmtorture|  |[a-z-]+: |run |records|workload|== |cpu[0-9]| {8,}mem)' | sed 's/^/  guest| /'
	return $rc
}

t0=$SECONDS
attempts='[]' kvm_error= accel= qrc=99 attempt=0
echo "mmtorture vm run: booting $(basename "$KERNEL") ($CPUS cpus, ${MEM_MIB}M in $NUMA nodes${DIMM:+, hot-pluggable DIMM $DIMM}), accelerators: $ACCELS"
for accel in "${accel_list[@]}"; do
	attempt=$((attempt + 1))
	a0=$SECONDS
	boot "$accel" 2>>"$WORK/shell.err"	# bash's "Aborted" notice when QEMU gives up on KVM
	qrc=$?
	why=
	if [ $qrc = 125 ]; then
		why=$stall_reason
	elif [ $qrc != 0 ] && [ $qrc != 124 ] && ! [ -s "$WORK/console.log" ]; then
		why="QEMU could not run the guest: $(head -1 "$WORK/qemu.err" | cut -c1-160)"
		[ "$accel" = kvm ] && kvm_error=$(head -1 "$WORK/qemu.err")
	fi
	[ -n "$why" ] || break
	attempts=$(jq -c --arg a "$accel" --arg why "$why" --argjson s $((SECONDS - a0)) \
		--argjson sf "${stop_to_fallback:-null}" \
		'. + [{accel: $a, given_up: $why, seconds: $s, stop_to_fallback_s: $sf}]' <<<"$attempts")
	if [ "$attempt" -lt "${#accel_list[@]}" ]; then
		echo "mmtorture vm run: $why; trying ${accel_list[$attempt]}"
		cp "$WORK/console.log" "$OUT/console-$accel-$attempt.log" 2>/dev/null
	fi
done
elapsed=$((SECONDS - t0))
# the guest tty turns \n into \r\n
tr -d '\r' <"$WORK/console.log" >"$WORK/console.txt" && mv "$WORK/console.txt" "$WORK/console.log"
cp "$WORK/console.log" "$OUT/console.log"

verdict=PASS reason= rc=
if grep -q "MMT-RESULTS-END" "$WORK/results.b64"; then
	rc=$(grep -o 'MMT-RESULTS-END rc=[0-9]*' "$WORK/results.b64" | cut -d= -f2)
	sed -n '/MMT-RESULTS-BEGIN/,/MMT-RESULTS-END/p' "$WORK/results.b64" | sed '1d;$d' | tr -d '\r' |
		base64 -d | gzip -dc | tar -C "$OUT" -xf - --strip-components=0 2>"$WORK/tar.err" ||
		{ verdict=FAIL reason="records from the guest were damaged: $(head -1 "$WORK/tar.err")"; }
	# the guest wrote RESULTS/<run-id>/...: flatten into OUT (renamed first: it may hold an
	# entry named like the run, e.g. a peer script's OUTDIR)
	if [ -d "$OUT/$RUN_ID" ]; then
		mv "$OUT/$RUN_ID" "$OUT/.guest-$$" && mv "$OUT/.guest-$$"/* "$OUT"/ &&
			rmdir "$OUT/.guest-$$"
	fi
	rm -f "$OUT/latest"
fi
splat=$(grep -m1 -E 'Kernel panic|BUG:|WARNING:|Oops|KASAN:|UBSAN:|general protection fault|soft lockup|blocked for more than|Bad page state|rcu: INFO:|detected stall' "$WORK/console.log" | grep -v mmtorture-inject)
# reproducers' results: a splat is what a reproducer that showed its bug may cause
bugs_json='{}' bug_shown=0
for f in "$OUT"/bugs/*.rc; do
	[ -f "$f" ] || continue
	b=$(basename "$f" .rc) brc=$(cat "$f")
	[ "$brc" = 1 ] && bug_shown=1
	bugs_json=$(jq -c --arg id "$b" --argjson rc "${brc:-99}" '. + {($id): $rc}' <<<"$bugs_json")
done
console_splat=$(echo "$splat" | sed 's/^\[[^]]*\] //')
# reproducers only: their exit codes are the verdict, a splat is kept in vm.json
# (with mmtorture runs too: only when a reproducer showed its bug)
if [ -n "$BUGS" ] && { [ "$NARGS" = 0 ] || [ "$bug_shown" = 1 ]; }; then
	splat=
fi
if [ $qrc = 124 ]; then
	verdict=FAIL reason="guest hung: no result within $TIMEOUT s"
elif [ $qrc = 125 ]; then
	verdict=FAIL reason="no accelerator left: $stall_reason"
elif grep -q "Kernel panic" "$WORK/console.log"; then
	verdict=FAIL reason="guest panicked: $(grep -m1 'Kernel panic' "$WORK/console.log" | sed 's/^\[[^]]*\] //')"
elif [ -z "$rc" ]; then
	verdict=FAIL reason="guest ended without results (QEMU exit $qrc): $(tail -1 "$WORK/console.log" | cut -c1-160)"
elif [ -n "$splat" ]; then
	verdict=FAIL reason="splat on the guest console: $(echo "$splat" | sed 's/^\[[^]]*\] //')"
fi
release=$(grep -m1 -o 'mmtorture-vm: guest [^ ]*' "$WORK/console.log" | awk '{print $3}')
jq -n --arg kernel "$(realpath "$KERNEL")" --arg release "$release" --arg accel "$accel" \
	--arg kvm_error "${kvm_error:-}" --argjson attempts "$attempts" --argjson cpus "$CPUS" --argjson mem "$MEM_MIB" \
	--argjson numa "$NUMA" --argjson dimm "$DIMM_MIB" --argjson elapsed "$elapsed" \
	--arg verdict "$verdict" --arg reason "$reason" --argjson rc "${rc:-null}" \
	--argjson bugs "$bugs_json" --arg console_splat "$console_splat" \
	'{kernel_image: $kernel, guest_release: $release, accel: $accel, kvm_error: $kvm_error,
	  accel_attempts: $attempts,
	  cpus: $cpus, mem_mib: $mem, numa_nodes: $numa, hotplug_dimm_mib: $dimm,
	  boot_to_end_s: $elapsed, verdict: $verdict, reason: $reason, guest_exit: $rc,
	  bugs: $bugs, console_splat: $console_splat}' >"$OUT/vm.json"

if [ "$verdict" = FAIL ]; then
	echo "mmtorture vm run: FAIL: $reason"
	echo "---- console (last 40 lines) ----"
	tail -40 "$WORK/console.log"
	echo "---- records and console.log in $OUT/"
	exit 1
fi
echo "mmtorture vm run: guest $release ($accel) finished in ${elapsed}s, mmtorture exit $rc; records in $OUT/"
exit "$rc"
