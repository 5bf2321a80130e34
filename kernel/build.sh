#!/bin/bash
# build.sh - build an x86_64 bzImage for mmtorture from a kernel tree and a patch series
#
# usage: kernel/build.sh --source DIR|TARBALL --series NAME|none --config perf|debug|trim
#                        -o OUTDIR [--jobs N] [--only TARGETS] [--no-build]
#
# The source is a git checkout, a plain kernel directory, or Debian's linux-source-6.x tarball.
# Every source becomes a git work tree under OUTDIR/src/ (a tarball or a plain directory is
# imported as one deterministic commit, see kernel/README.md); the series is applied on top of its
# base-commit as commits; the work tree is switched to that commit, which rewrites only the files
# that differ from the previous build; make then builds out of tree in OUTDIR/obj/<tree>-<config>,
# shared by every series of that tree and config, so switching series recompiles only what the
# patches touch, and ccache turns switching back into cache hits. The kernel release carries
# "-mmt-<series>" ("-mmt-base" without patches). Results land in OUTDIR/build-<series>-<config>/.
#
# exit: 0 built (the last line printed is the bzImage path), 1 the kernel failed to build,
#       77 missing build dependencies (named, with the apt-get line), 99 bad usage or input,
#       or a patch that does not apply (named, with its hunk)

set -o pipefail
shopt -s nullglob

ME=kernel/build.sh
KDIR=$(cd "$(dirname "$0")" && pwd)
T0=$SECONDS

# Objects compiled by a full build, for the percentage shown by the first build in an OUTDIR
# (trim measured, see kernel/README.md; perf and debug estimated); later builds use the count
# recorded by the previous full build of that config.
declare -A EST_OBJECTS=([trim]=1070 [perf]=2700 [debug]=2800)

die()
{
	echo "$ME: $*" >&2
	exit 99
}

usage()
{
	cat <<EOF
usage: $ME --source DIR|TARBALL --series NAME|none --config perf|debug|trim -o OUTDIR
          [--jobs N] [--only TARGETS] [--no-build]

  --source DIR|TARBALL  a kernel git checkout, a plain kernel tree, or linux-source-6.x.tar.xz
  --series NAME|none    a folder under kernel/series/ (base = no patches); none = base
  --config NAME         perf (defconfig + perf.config), debug (defconfig + debug.config),
                        trim (tinyconfig + trim.config + perf.config)
  -o, --out OUTDIR      sources, objects, ccache and results (keep it out of the repo)
  -j, --jobs N          parallel make jobs (default: $(nproc))
  --only TARGETS        build only these make targets (e.g. "mm/hugetlb.o mm/vmstat.o")
  --no-build            prepare the tree, apply the series and configure; do not build

Results: OUTDIR/build-<series>-<config>/{bzImage,System.map,config,kernel.release,build.log}.
Exit: 0 built, 1 build failed, 77 missing build dependencies, 99 bad usage or input.
EOF
}

# "[ m:ss] stage    text"
say()
{
	local t=$((SECONDS - T0))

	printf '[%3d:%02d] %-8s %s\n' $((t / 60)) $((t % 60)) "$1" "$2"
}

warn()
{
	echo "$ME: warning: $*" >&2
}

#
# Arguments
#
SOURCE= SERIES= CONFIG= OUTDIR= JOBS=$(nproc) ONLY= NOBUILD=0
while [ $# -gt 0 ]; do
	case "$1" in
	--source) SOURCE=${2-}; shift ;;
	--source=*) SOURCE=${1#*=} ;;
	--series) SERIES=${2-}; shift ;;
	--series=*) SERIES=${1#*=} ;;
	--config) CONFIG=${2-}; shift ;;
	--config=*) CONFIG=${1#*=} ;;
	-o|--out) OUTDIR=${2-}; shift ;;
	--out=*) OUTDIR=${1#*=} ;;
	-j|--jobs) JOBS=${2-}; shift ;;
	--jobs=*) JOBS=${1#*=} ;;
	--only) ONLY=${2-}; shift ;;
	--only=*) ONLY=${1#*=} ;;
	--no-build) NOBUILD=1 ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	[ $# -gt 0 ] && shift
done

[ -n "$SOURCE" ] || die "missing --source DIR|TARBALL (see --help)"
[ -n "$SERIES" ] || die "missing --series NAME|none (see --help)"
[ -n "$CONFIG" ] || die "missing --config perf|debug|trim (see --help)"
[ -n "$OUTDIR" ] || die "missing -o OUTDIR (see --help)"
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "--jobs wants a positive number, not '$JOBS'"
[ -e "$SOURCE" ] || die "source '$SOURCE' does not exist"
SOURCE=$(realpath -e -- "$SOURCE")

case "$CONFIG" in
perf) BASECONF=defconfig; FRAGS=("$KDIR/configs/perf.config") ;;
debug) BASECONF=defconfig; FRAGS=("$KDIR/configs/debug.config") ;;
trim) BASECONF=tinyconfig; FRAGS=("$KDIR/configs/trim.config" "$KDIR/configs/perf.config") ;;
*) die "unknown config '$CONFIG' (perf, debug or trim)" ;;
esac
for f in "${FRAGS[@]}"; do
	[ -r "$f" ] || die "config fragment $f is missing"
done

[ "$SERIES" = none ] && SERIES=base
[[ "$SERIES" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*(/[A-Za-z0-9][A-Za-z0-9._+-]*)?$ ]] ||
	die "bad series name '$SERIES' (letters, digits, . _ + -; one / for a group such as known-bad/NAME)"
# known-bad/NAME builds as release -mmt-known-bad-NAME, in build-known-bad-NAME-CONFIG
SERIES_ID=${SERIES//\//-}
SERIESDIR=$KDIR/series/$SERIES
if [ ! -d "$SERIESDIR" ]; then
	known=$(cd "$KDIR/series" 2>/dev/null && for s in */series */*/series; do
		[ -e "$s" ] && printf '%s ' "${s%/series}"; done)
	known=${known% }
	die "unknown series '$SERIES' (known: ${known:-none} none)"
fi
[ -r "$SERIESDIR/series" ] || die "series '$SERIES' has no 'series' file ($SERIESDIR/series)"
PATCHES=()
while read -r line; do
	line=${line%%#*}
	line=${line//[[:space:]]/}
	[ -n "$line" ] || continue
	[ -r "$SERIESDIR/$line" ] || die "series '$SERIES' lists $line, which is not in $SERIESDIR"
	PATCHES+=("$SERIESDIR/$line")
done <"$SERIESDIR/series"
SERIES_BASE=
if [ ${#PATCHES[@]} -gt 0 ]; then
	SERIES_BASE=$(sed -n 's/^base-commit: \([0-9a-f]\{40\}\)$/\1/p' "${PATCHES[0]}" | head -n1)
	[ -n "$SERIES_BASE" ] || die "${PATCHES[0]#"$KDIR/"} has no 'base-commit: <sha1>' line"
fi

#
# Build dependencies: name what is missing and how to get it
#
missing=()
for p in gcc:gcc make:make flex:flex bison:bison bc:bc cpio:cpio ccache:ccache git:git \
	 xz:xz-utils perl:perl; do
	command -v "${p%%:*}" >/dev/null 2>&1 || missing+=("${p#*:}")
done
[ -r /usr/include/libelf.h ] || [ -r /usr/include/elfutils/libelf.h ] || missing+=(libelf-dev)
[ -r /usr/include/openssl/opensslv.h ] || missing+=(libssl-dev)
if [ ${#missing[@]} -gt 0 ]; then
	echo "$ME: missing build dependencies: ${missing[*]} (install: apt-get install ${missing[*]})" >&2
	exit 77
fi

mkdir -p -- "$OUTDIR" || die "cannot create $OUTDIR"
OUTDIR=$(realpath -e -- "$OUTDIR")
case "$OUTDIR/" in
"$(realpath "$KDIR/..")"/*) warn "OUTDIR $OUTDIR is inside the repository; keep builds out of it" ;;
esac

# Deterministic import commits: same tree -> same commit id (see kernel/README.md).
IMPORT_ENV=(GIT_AUTHOR_NAME=mmtorture GIT_AUTHOR_EMAIL=mmtorture@localhost
	    GIT_AUTHOR_DATE="2000-01-01T00:00:00+0000" GIT_COMMITTER_NAME=mmtorture
	    GIT_COMMITTER_EMAIL=mmtorture@localhost GIT_COMMITTER_DATE="2000-01-01T00:00:00+0000")
GIT=(git -c core.autocrlf=false -c core.safecrlf=false -c core.fileMode=true
     -c commit.gpgSign=false -c advice.detachedHead=false -c gc.auto=0
     -c safe.directory='*')

#
# Source tree: OUTDIR/src/<tree>, a git work tree, one per source, shared by series and configs
#
if [ -f "$SOURCE" ]; then
	case "$SOURCE" in
	*.tar.xz|*.tar.gz|*.tar.bz2|*.tar.zst|*.tar|*.tgz|*.txz) ;;
	*) die "source '$SOURCE' is a file but not a tarball (.tar.xz etc.)" ;;
	esac
	KIND=tarball
	TREE=$(basename -- "$SOURCE")
	TREE=${TREE%.tar*}
	TREE=${TREE%.t?z}
elif [ -d "$SOURCE" ]; then
	[ -f "$SOURCE/Makefile" ] && [ -f "$SOURCE/Kconfig" ] && [ -d "$SOURCE/mm" ] ||
		die "source '$SOURCE' is not a kernel tree (no Makefile, Kconfig and mm/)"
	if [ "$(git -C "$SOURCE" rev-parse --show-toplevel 2>/dev/null)" = "$SOURCE" ]; then
		KIND=git
	else
		KIND=dir
	fi
	TREE=$(basename -- "$SOURCE")-$(printf '%s' "$SOURCE" | sha1sum | cut -c1-8)
else
	die "source '$SOURCE' is neither a directory nor a tarball"
fi
SRC=$OUTDIR/src/$TREE
OBJ=$OUTDIR/obj/$TREE-$CONFIG
RES=$OUTDIR/build-$SERIES_ID-$CONFIG
# A result of the same series and config from another tree (6.1 after 6.12, say) is kept, not
# overwritten: it moves to build-<series>-<config>.<that tree>.
if [ -r "$RES/source.txt" ] && ! grep -qx "tree: $SRC" "$RES/source.txt"; then
	old=$(sed -n 's|^tree: .*/||p' "$RES/source.txt")
	rm -rf -- "$RES.${old:-other}" && mv -- "$RES" "$RES.${old:-other}" &&
		warn "kept the ${old:-other} build of '$SERIES' ($CONFIG) as $RES.${old:-other}"
fi
mkdir -p -- "$OUTDIR/src" "$OUTDIR/obj" || die "cannot write to $OUTDIR"

# One build per source tree at a time: the work tree is shared by every series and config.
exec 9>"$OUTDIR/src/$TREE.lock" || die "cannot create $OUTDIR/src/$TREE.lock"
if ! flock -n 9; then
	say wait "another build holds $OUTDIR/src/$TREE.lock"
	flock 9
fi

TMP=$(mktemp -d "$OUTDIR/.build.XXXXXX") || die "cannot create a temporary directory in $OUTDIR"
trap 'rm -rf -- "$TMP"' EXIT

g()
{
	"${GIT[@]}" -C "$SRC" "$@"
}

# import_tree DIR INDEX MESSAGE: commit DIR's files (all of them, ignoring .gitignore) as one
# parentless commit with fixed author, committer and dates; prints the commit id.
import_tree()
{
	local dir=$1 index=$2 msg=$3 tree

	GIT_INDEX_FILE=$index "${GIT[@]}" -C "$dir" --git-dir="$SRC/.git" --work-tree="$dir" \
		add -A -f . || return 1
	tree=$(GIT_INDEX_FILE=$index "${GIT[@]}" --git-dir="$SRC/.git" write-tree) || return 1
	env "${IMPORT_ENV[@]}" "${GIT[@]}" --git-dir="$SRC/.git" commit-tree "$tree" -m "$msg"
}

# "6.12.117" from a tree's Makefile
tree_version()
{
	awk -F' *= *' '$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 }
		$1 == "SUBLEVEL" { s = $2 } $1 == "EXTRAVERSION" { e = $2 }
		END { printf "%s.%s.%s%s", v, p, s, e }' "$1/Makefile"
}

if [ ! -d "$SRC/.git" ]; then
	rm -rf -- "$SRC"
fi

case "$KIND" in
tarball)
	stamp="$(stat -c '%s %Y' -- "$SOURCE") $SOURCE"
	if [ -d "$SRC/.git" ] && [ "$(cat "$SRC/.git/mmt-source" 2>/dev/null)" = "$stamp" ]; then
		HEAD_COMMIT=$(g rev-parse -q --verify refs/mmt/import) || die "$SRC: no refs/mmt/import"
	else
		first=0
		if [ ! -d "$SRC/.git" ]; then
			first=1
			say import "unpacking $SOURCE into $SRC (once)"
			mkdir -p -- "$SRC.new" && tar -xf "$SOURCE" -C "$SRC.new" --strip-components=1 ||
				die "cannot unpack $SOURCE"
			mv -- "$SRC.new" "$SRC" && "${GIT[@]}" init -q "$SRC" ||
				die "cannot create a git repository in $SRC"
			unpacked=$SRC index=$SRC/.git/index
		else
			say import "$SOURCE changed: unpacking it again"
			unpacked=$TMP/unpacked index=$TMP/import.index
			mkdir -p -- "$unpacked" &&
				tar -xf "$SOURCE" -C "$unpacked" --strip-components=1 ||
				die "cannot unpack $SOURCE"
		fi
		[ -f "$unpacked/Makefile" ] && [ -d "$unpacked/mm" ] ||
			die "$SOURCE does not hold a kernel tree (no Makefile, mm/ at its top)"
		msg="linux-$(tree_version "$unpacked") (Debian $TREE)"
		say import "committing the tree as \"$msg\""
		HEAD_COMMIT=$(import_tree "$unpacked" "$index" "$msg") || die "cannot import $SOURCE"
		g update-ref refs/mmt/import "$HEAD_COMMIT" || die "cannot update refs in $SRC"
		[ $first = 1 ] && { g update-ref --no-deref HEAD "$HEAD_COMMIT" ||
				    die "cannot set HEAD in $SRC"; }
		rm -rf -- "$TMP/unpacked"
		echo "$stamp" >"$SRC/.git/mmt-source"
	fi
	SRCDESC="tarball $(basename -- "$SOURCE")"
	;;
dir)
	if [ ! -d "$SRC/.git" ]; then
		"${GIT[@]}" init -q "$SRC" || die "cannot create a git repository in $SRC"
	fi
	msg="linux-$(tree_version "$SOURCE") ($(basename -- "$SOURCE"))"
	HEAD_COMMIT=$(import_tree "$SOURCE" "$SRC/.git/mmt-import.index" "$msg") ||
		die "cannot import $SOURCE"
	g update-ref refs/mmt/import "$HEAD_COMMIT" || die "cannot update refs in $SRC"
	SRCDESC="directory $SOURCE"
	;;
git)
	if [ ! -d "$SRC/.git" ]; then
		say import "cloning $SOURCE into $SRC (once; objects hard-linked)"
		"${GIT[@]}" clone -q "$SOURCE" "$SRC" || die "cannot clone $SOURCE"
	fi
	HEAD_COMMIT=$("${GIT[@]}" -C "$SOURCE" rev-parse -q --verify 'HEAD^{commit}') ||
		die "$SOURCE has no HEAD commit"
	[ -z "$("${GIT[@]}" -C "$SOURCE" status --porcelain -uno 2>/dev/null | head -n1)" ] ||
		warn "$SOURCE has uncommitted changes; building its HEAD ${HEAD_COMMIT:0:12}"
	g fetch -q --no-tags "$SOURCE" HEAD '+refs/heads/*:refs/mmt-src/heads/*' \
		'+refs/tags/*:refs/mmt-src/tags/*' || die "cannot fetch from $SOURCE"
	SRCDESC="git $SOURCE"
	;;
esac

#
# Series: applied as commits through a private index, so the work tree is touched only once
#
BASE=$HEAD_COMMIT
if [ -n "$SERIES_BASE" ]; then
	if g cat-file -e "$SERIES_BASE^{commit}" 2>/dev/null; then
		BASE=$SERIES_BASE
	else
		warn "series '$SERIES' was made against base-commit ${SERIES_BASE:0:12}, which" \
		     "$SRCDESC does not contain; applying it onto ${HEAD_COMMIT:0:12}"
	fi
fi

# hunk_of PATCH FILE LINE: "hunk #N (@@ ... @@)" of FILE in PATCH whose old range starts at LINE
hunk_of()
{
	awk -v file="$2" -v line="$3" '
		/^diff --git / { infile = ($NF == "b/" file); n = 0; next }
		infile && /^@@ / {
			n++; split($2, a, ","); s = substr(a[1], 2)
			if (s == line) { printf "hunk #%d (%s %s %s %s)", n, $1, $2, $3, $4; exit }
		}' "$1"
}

field()
{
	sed -n "s/^$1: //p" "$TMP/info" | head -n1
}

COMMIT=$BASE
if [ ${#PATCHES[@]} -gt 0 ]; then
	idx=$TMP/series.index
	GIT_INDEX_FILE=$idx g read-tree "$BASE" || die "cannot read tree $BASE"
	for p in "${PATCHES[@]}"; do
		pn=$(basename -- "$p")
		if ! GIT_INDEX_FILE=$idx g apply --cached --whitespace=nowarn "$p" 2>"$TMP/apply.err"; then
			where=$(sed -n 's/^error: patch failed: \(.*\):\([0-9]*\)$/\1 \2/p' \
				"$TMP/apply.err" | head -n1)
			if [ -n "$where" ]; then
				hunk=$(hunk_of "$p" "${where% *}" "${where#* }")
				die "series '$SERIES': $pn does not apply to ${BASE:0:12}:" \
				    "${where% *} ${hunk:-at line ${where#* }} fails"
			fi
			die "series '$SERIES': $pn does not apply to ${BASE:0:12}:" \
			    "$(grep -m1 '^error:' "$TMP/apply.err" | sed 's/^error: //')"
		fi
		tree=$(GIT_INDEX_FILE=$idx g write-tree) || die "cannot write tree for $pn"
		g mailinfo "$TMP/msg" "$TMP/patch" <"$p" >"$TMP/info" ||
			die "series '$SERIES': $pn is not a mail-format patch (git format-patch)"
		{ field Subject; echo; cat "$TMP/msg"; } >"$TMP/commitmsg"
		adate=$(field Date)
		COMMIT=$(env GIT_AUTHOR_NAME="$(field Author)" GIT_AUTHOR_EMAIL="$(field Email)" \
			 GIT_AUTHOR_DATE="$adate" GIT_COMMITTER_NAME=mmtorture \
			 GIT_COMMITTER_EMAIL=mmtorture@localhost GIT_COMMITTER_DATE="$adate" \
			 "${GIT[@]}" -C "$SRC" commit-tree "$tree" -p "$COMMIT" -F "$TMP/commitmsg") ||
			die "cannot commit $pn"
	done
	say series "$SERIES: ${#PATCHES[@]} patches applied onto ${BASE:0:12} -> ${COMMIT:0:12}"
else
	say series "$SERIES: no patches, ${BASE:0:12}"
fi
g update-ref "refs/mmt/series/$SERIES_ID" "$COMMIT" || die "cannot update refs in $SRC"

#
# Work tree: switch to the commit; git rewrites only the files that differ, so their new mtimes
# are exactly what make has to rebuild.
#
if [ -n "$(g status --porcelain -uno 2>/dev/null | head -n1)" ]; then
	die "$SRC has uncommitted changes (not made by this script?): keep your work" \
	    "elsewhere, then 'git -C $SRC reset -q --hard'"
fi
PREV=$(g rev-parse -q --verify HEAD 2>/dev/null)
if [ "$PREV" != "$COMMIT" ]; then
	if [ -n "$PREV" ]; then
		nchanged=$(g diff --name-only "$PREV" "$COMMIT" | wc -l)
	else
		nchanged=all
	fi
	g checkout -q -f --detach "$COMMIT" || die "cannot check out $COMMIT in $SRC"
	say tree "$SRC at ${COMMIT:0:12} ($nchanged files changed)"
else
	say tree "$SRC at ${COMMIT:0:12} (unchanged)"
fi
RELEASE_SUFFIX=-mmt-$SERIES_ID

#
# Configure out of tree (O=), with ccache as the compiler
#
export CCACHE_DIR=${CCACHE_DIR:-$OUTDIR/ccache}
export CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-10G}
export KBUILD_BUILD_USER=mmtorture KBUILD_BUILD_HOST=mmtorture
MAKE=(make -C "$SRC" O="$OBJ" ARCH=x86_64 CC="ccache gcc" LOCALVERSION="$RELEASE_SUFFIX")
if [ -n "$ONLY" ] || [ $NOBUILD = 1 ]; then
	LOG=$OBJ/mmt-partial.log
else
	LOG=$RES/build.log
fi
mkdir -p -- "$OBJ" "$(dirname -- "$LOG")" || die "cannot create $OBJ or $RES"
: >"$LOG"

# The configuration depends on the base target, the fragments, the tree's Kconfig files and
# defconfigs, and the compiler: when none of them changed since the last build in $OBJ, keep
# .config as it is. Otherwise configure into a scratch file and replace .config only if the
# result differs, so an unchanged configuration costs no rebuild.
base_desc="$BASECONF + $(for f in "${FRAGS[@]}"; do printf '%s ' "$(basename "$f")"; done)"
base_desc=${base_desc% }
cfgkey=$({
	echo "$BASECONF"
	cat -- "${FRAGS[@]}"
	g ls-tree -r "$COMMIT" | awk -F'\t' '$2 ~ /(^|\/)Kconfig[^\/]*$/ ||
		$2 ~ /^arch\/x86\/configs\// || $2 ~ /^kernel\/configs\// || $2 ~ /^scripts\/kconfig\//'
	gcc --version | head -n1
} | sha1sum | cut -c1-40)
newconf=.config.mmt-new
if [ -f "$OBJ/.config" ] && [ "$(cat "$OBJ/.mmt-config-key" 2>/dev/null)" = "$cfgkey" ]; then
	say config "$base_desc: unchanged (same fragments, Kconfig and compiler as last time)"
else
	rm -f -- "$OBJ/$newconf" "$OBJ/.mmt-config-key"
	{
		KCONFIG_CONFIG=$newconf "${MAKE[@]}" "$BASECONF" &&
		(cd "$OBJ" && KCONFIG_CONFIG=$OBJ/$newconf "$SRC/scripts/kconfig/merge_config.sh" \
			-m -O "$OBJ" "$OBJ/$newconf" "${FRAGS[@]}") &&
		KCONFIG_CONFIG=$newconf "${MAKE[@]}" olddefconfig
	} >>"$LOG" 2>&1 || { tail -n 20 "$LOG" >&2; die "configuration failed (log: $LOG)"; }
	if [ -f "$OBJ/.config" ] && cmp -s "$OBJ/$newconf" "$OBJ/.config"; then
		rm -f -- "$OBJ/$newconf"
		say config "$base_desc: unchanged"
	else
		mv -f -- "$OBJ/$newconf" "$OBJ/.config"
		say config "$base_desc: written to $OBJ/.config"
	fi
	echo "$cfgkey" >"$OBJ/.mmt-config-key"
fi

# Which requested values did this tree not take (a symbol it lacks, an unmet dependency)?
unmet=$(awk '
	function parse() {
		if (match($0, /^CONFIG_[A-Za-z0-9_]+=/)) {
			sym = substr($0, 1, RLENGTH - 1)
			val = substr($0, RLENGTH + 1)
		} else if ($0 ~ /^# CONFIG_[A-Za-z0-9_]+ is not set$/) {
			sym = $2
			val = "n"
		} else {
			return 0
		}
		return 1
	}
	FNR == NR { if (parse()) have[sym] = val; next }
	parse() { want[sym] = val }
	END {
		for (s in want) {
			if (s in have) {
				if (have[s] != want[s])
					printf "%s=%s (got %s) ", s, want[s], have[s]
			} else if (want[s] != "n") {
				printf "%s=%s (unknown here) ", s, want[s]
			}
		}
	}' "$OBJ/.config" "${FRAGS[@]}")
[ -n "$unmet" ] && say config "not taken by this tree: ${unmet% }"

if [ $NOBUILD = 1 ]; then
	say done "tree $SRC, objects $OBJ (not built: --no-build)"
	exit 0
fi

#
# Build, with make's output condensed to a line per stage and the compile percentage
#
if [ -n "$ONLY" ]; then
	read -r -a TARGETS <<<"$ONLY"
else
	TARGETS=(bzImage)
fi
full=0
[ -f "$OBJ/vmlinux" ] || full=1
est=0
if [ $full = 1 ] && [ -z "$ONLY" ]; then
	est=${EST_OBJECTS[$CONFIG]}
	[ -r "$OUTDIR/obj/.objects-$CONFIG" ] && est=$(cat "$OUTDIR/obj/.objects-$CONFIG")
fi

# ccache hits and misses so far (the cache may be shared: report the difference)
ccache_counts()
{
	ccache --print-stats 2>/dev/null | awk -F'\t' '
		$1 == "direct_cache_hit" || $1 == "preprocessed_cache_hit" { h += $2 }
		$1 == "cache_miss" { m += $2 } END { print h + 0, m + 0 }'
}
read -r H0 M0 < <(ccache_counts)

# One line per stage; during compilation a line per 10 % (first build) or per 30 s.
progress()
{
	local stage=prepare n=0 lastpct=-10 lastt=$SECONDS warnings=0 l obj pct

	say prepare "scripts, headers, syncconfig"
	while IFS= read -r l; do
		case "$l" in
		*warning:*)
			warnings=$((warnings + 1))
			continue ;;
		*"arch/x86/boot/compressed/vmlinux"*|"  OBJCOPY arch/x86/boot"*|"  BUILD "*)
			if [ $stage != image ]; then
				stage=image
				say image "arch/x86/boot/bzImage"
			fi
			continue ;;
		"  LD "*vmlinux*|"  KSYMS"*|"  SORTTAB"*)
			if [ $stage = prepare ] || [ $stage = compile ]; then
				stage=link
				say link "vmlinux ($n objects compiled)"
			fi
			continue ;;
		"  CC "*|"  AS "*) ;;
		*) continue ;;
		esac
		obj=${l##* }
		case "$obj" in /*|scripts/*|arch/x86/boot/*) continue ;; esac
		n=$((n + 1))
		if [ $stage = prepare ]; then
			stage=compile
			if [ "$est" -gt 0 ]; then
				say compile "about $est objects"
			else
				say compile "$obj"
				lastt=$SECONDS
			fi
		fi
		[ $stage = compile ] || continue
		if [ "$est" -gt 0 ]; then
			pct=$((n * 100 / est))
			[ $pct -gt 99 ] && pct=99
			if [ $pct -ge $((lastpct + 10)) ]; then
				say compile "$(printf '%3d%% (%d/~%d) %s' $pct $n "$est" "$obj")"
				lastpct=$((pct / 10 * 10))
			fi
		elif [ $((SECONDS - lastt)) -ge 30 ]; then
			say compile "$n objects, $obj"
			lastt=$SECONDS
		fi
	done
	echo "$n $warnings" >"$TMP/counts"
}

say build "make -j$JOBS ${TARGETS[*]} in $OBJ (log: $LOG)"
"${MAKE[@]}" -j"$JOBS" "${TARGETS[@]}" 2>&1 | tee -a "$LOG" | progress
rc=${PIPESTATUS[0]}
read -r NOBJ NWARN <"$TMP/counts" 2>/dev/null || { NOBJ=0; NWARN=0; }
read -r H1 M1 < <(ccache_counts)
hits=
if [ "$NOBJ" -gt 0 ] && [ $((H1 - H0 + M1 - M0)) -gt 0 ]; then
	hits="$(((H1 - H0) * 100 / (H1 - H0 + M1 - M0)))%"
fi

if [ "$rc" != 0 ]; then
	echo "$ME: make failed (exit $rc); first errors:" >&2
	grep -m8 -E '(error|Error)[: ]' "$LOG" >&2
	echo "$ME: build of series '$SERIES' ($CONFIG) failed; full log: $LOG" >&2
	exit 1
fi

if [ -n "$ONLY" ]; then
	say done "${TARGETS[*]} built ($NOBJ objects compiled, $NWARN warnings, ccache hits ${hits:-n/a})"
	exit 0
fi

[ $full = 1 ] && echo "$NOBJ" >"$OUTDIR/obj/.objects-$CONFIG"
RELEASE=$(cat "$OBJ/include/config/kernel.release")
cp -f -- "$OBJ/arch/x86/boot/bzImage" "$RES/bzImage.new" &&
	mv -f -- "$RES/bzImage.new" "$RES/bzImage" &&
	cp -f -- "$OBJ/System.map" "$RES/System.map" &&
	cp -f -- "$OBJ/.config" "$RES/config" ||
	die "cannot copy the results into $RES"
echo "$RELEASE" >"$RES/kernel.release"
case "$RELEASE" in
*"$RELEASE_SUFFIX") ;;
*) warn "release $RELEASE does not end in $RELEASE_SUFFIX (a localversion file or" \
	   "CONFIG_LOCALVERSION in the tree?): records will not show the series" ;;
esac
cat >"$RES/source.txt" <<EOF
source: $SRCDESC
tree: $SRC
commit: $COMMIT
base: $BASE
series: $SERIES (${#PATCHES[@]} patches)
config: $CONFIG ($base_desc)
release: $RELEASE
EOF
size=$(du -k "$RES/bzImage" | cut -f1)
size="$((size / 1024)).$((size % 1024 * 10 / 1024)) MiB"
msg="$NOBJ objects compiled, $NWARN warnings, ccache hits ${hits:-n/a}, bzImage $size"
say done "$RELEASE: $msg"
echo "$RES/bzImage"
