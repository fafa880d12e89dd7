#!/bin/sh
# bench/data.sh — versioned data on a big CSV (the churn rows repeated to MB MiB, default
# 1024): mlctl_data_store() against `gzip -1` (the same zlib level) and sha256sum, the
# checkout back (inflate, hash, fsync, rename) against `gzip -dc`, and the file digest
# cache cold and warm. Ratios are of times measured in this run. Run from the repository
# root after `make`.
set -eu
BUILD=${BUILD:-build}
MB=${MB:-1024}
dir=$(mktemp -d /tmp/mlctl-bench-data.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -Ilib/include -o "$dir/data_bench" bench/data_bench.c \
	"$BUILD/libmlctl.a" $(pkg-config --libs sqlite3 yaml-0.1 zlib jansson libmicrohttpd libarchive libsodium) \
	-lsvm -lpthread -lm -ldl
head -n 1 examples/data/mlc_churn.csv >"$dir/big.csv"
while [ "$(stat -c %s "$dir/big.csv")" -lt $((MB * 1048576)) ]; do
	tail -n +2 examples/data/mlc_churn.csv >>"$dir/big.csv"
done
size=$(stat -c %s "$dir/big.csv")
secs() { /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; }
# The first read warms the page cache for everyone.
t_sha=$(secs sha256sum "$dir/big.csv")
t_gz=$(secs sh -c "gzip -1 -c '$dir/big.csv' >'$dir/big.gz'")
t_gunzip=$(secs sh -c "gzip -dc '$dir/big.gz' >'$dir/big.gunzip'")
rm -f "$dir/big.gunzip"
t_store=$(/usr/bin/time -f 'rss %M' "$dir/data_bench" "$dir/reg" "$dir/big.csv" store 2>"$dir/store.rss" | awk '{ print $2 }')
obj=$(find "$dir/reg/objects" -mindepth 2 -type f | head -1)
t_out=$(/usr/bin/time -f 'rss %M' "$dir/data_bench" "$dir/reg" "$dir/big.csv" checkout "$dir/back.csv" 2>"$dir/out.rss" | awk '{ print $2 }')
cmp -s "$dir/big.csv" "$dir/back.csv" && same=yes || same=NO
touch -d '1 hour ago' "$dir/big.csv"
t_cold=$("$dir/data_bench" "$dir/reg" "$dir/big.csv" digest | awk '{ print $2 }')
t_warm=$("$dir/data_bench" "$dir/reg" "$dir/big.csv" digest | awk '{ print $2 }')
awk -v size="$size" -v obj="$(stat -c %s "$obj")" -v gz="$(stat -c %s "$dir/big.gz")" \
	-v sha="$t_sha" -v gzt="$t_gz" -v gun="$t_gunzip" -v st="$t_store" -v out="$t_out" \
	-v cold="$t_cold" -v warm="$t_warm" -v same="$same" \
	-v rs="$(sed -n 's/^rss //p' "$dir/store.rss")" -v ro="$(sed -n 's/^rss //p' "$dir/out.rss")" 'BEGIN {
	printf "input                 %.0f MiB\n", size / 1048576
	printf "store                 %.2f s (%.0f MiB/s), object %.1f%% of the input (gzip -1: %.1f%%), max RSS %d KiB\n", st, size / 1048576 / st, 100 * obj / size, 100 * gz / size, rs
	printf "  vs gzip -1          %.2f s: ratio %.2f\n", gzt, st / gzt
	printf "  vs sha256sum        %.2f s: ratio %.2f\n", sha, st / sha
	printf "checkout              %.2f s, max RSS %d KiB, identical: %s\n", out, ro, same
	printf "  vs gzip -dc         %.2f s: ratio %.2f\n", gun, out / gun
	printf "digest, cold / warm   %.3f s / %.6f s: ratio %.0f\n", cold, warm, cold / warm
}'
