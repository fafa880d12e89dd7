#!/bin/sh
# examples/new-day.sh FILE [--flip] — a day of new customers arrives: append the next 250
# rows of examples/data/mlc_churn.csv after those FILE already has to FILE.
#
# FILE starts as examples/churn/train.csv (the first 3,000 customers of mlc_churn.csv, in
# order); each call appends the next 250 (customers 3,001 to 4,000 make four days; the last
# 1,000 are the test set and never arrive). The same call on the same FILE always appends
# the same rows, so a walk-through or a test can repeat it.
#
# --flip turns every appended label around (yes <-> no): a day of bad labels, which makes
# the next model worse than the one in production, so its validation must fail.
set -eu
[ $# -ge 1 ] || { echo "usage: sh examples/new-day.sh FILE [--flip]" >&2; exit 64; }
file=$1
flip=${2:-}
src=$(cd "$(dirname "$0")" && pwd)/data/mlc_churn.csv
have=$(($(wc -l <"$file") - 1))
if [ "$have" -lt 3000 ] || [ "$have" -ge 4000 ]; then
	echo "new-day.sh: $file has $have customers; a day arrives after the first 3000 and before 4000" >&2
	exit 65
fi
first=$((have + 2))           # line numbers in mlc_churn.csv: line 1 is the header
last=$((first + 249))
if [ "$flip" = --flip ]; then
	sed -n "${first},${last}p" "$src" | awk -F, 'BEGIN { OFS = "," }
		{ if ($NF == "\"yes\"") $NF = "\"no\""; else if ($NF == "\"no\"") $NF = "\"yes\""; print }' >>"$file"
else
	sed -n "${first},${last}p" "$src" >>"$file"
fi
echo "new-day.sh: $file: customers $((have + 1)) to $((have + 250)) arrived"
