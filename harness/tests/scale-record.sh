#!/bin/bash
# scale-record.sh IN OUT METRIC FACTOR: a copy of record IN with METRIC's
# samples, repeat values and summary multiplied by FACTOR (0.7: a rate 30 %
# lower), everything else as recorded: a known change on real noise.
set -e
in=$1 out=$2 metric=$3 f=$4
[ -f "$in" ] && [ -n "$metric" ] && [ -n "$f" ] || { echo "usage: $0 IN OUT METRIC FACTOR" >&2; exit 99; }
jq -e --arg m "$metric" '.metrics[$m]' "$in" >/dev/null || { echo "$in has no metric $metric" >&2; exit 99; }
mkdir -p "$(dirname "$out")"
jq --arg m "$metric" --argjson f "$f" '
	def sc: if type == "number" then . * $f else . end;
	.metrics[$m] |= (.samples |= map(sc) | .repeat_values |= map(sc) |
			 .summary |= (.mean |= sc | .arithmetic_mean |= sc | .median |= sc |
				      .stddev |= sc | .min |= sc | .max |= sc)) |
	.repeats |= map(.metrics[$m]? |= (if . then (.samples |= map(sc) |
		.summary |= (.mean |= sc | .arithmetic_mean |= sc | .median |= sc |
			     .stddev |= sc | .min |= sc | .max |= sc)) else . end))' "$in" >"$out"
