#!/bin/sh
# t0028-train-repeatable.sh — repeatable options have no fixed cap and drop nothing:
# --no-shrinking given 20 times is accepted and recorded once (it overflowed a 16-entry
# array before), 40 --tag options all reach the run, every -C counts in order (the last
# wins, and is what the run records), and the command line is recorded as it was typed
# (a --tag's '=' included). Run it under the ASan/UBSan build too: MLCTL=build-san/mlctl.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null

# --- --no-shrinking 20 times, among other libsvm options ---
set --
for i in $(seq 20); do set -- "$@" --no-shrinking; done
run --json train "$DATA/iris.csv" --name iris --label species -C 4 "$@" -g 0.5
expect_rc "--no-shrinking x20: exit 0" 0
check "no sanitizer report" test ! -s "$TMP/err"
check "--json params: C 4, gamma 0.5" test "$(json "d['params'].get('C'), d['params'].get('gamma')")" = "4 0.5"
train_run=$(json "d['run']")
run --json runs show "$train_run"
check "the run records shrinking=0" test "$(json "d['params'].get('shrinking')")" = 0
check "the recorded command line has all 20" \
	test "$(json "d['argv'].count('--no-shrinking')")" = 20

# --- 40 tags, every one recorded ---
set --
for i in $(seq 40); do set -- "$@" --tag "k$i=v$i"; done
run --json train "$DATA/iris.csv" --name iris --label species "$@" --tag "url=a=b"
expect_rc "40 --tag: exit 0" 0
check "no sanitizer report" test ! -s "$TMP/err"
train_run=$(json "d['run']")
run --json runs show "$train_run"
check "all 40 tags recorded" test "$(json "len([k for k in d['tags'] if k[0] == 'k'])")" = 40
check "tag k1 is v1 and k40 is v40" test "$(json "d['tags']['k1'], d['tags']['k40']")" = "v1 v40"
check "a value keeps its own '='" test "$(json "d['tags']['url']")" = "a=b"
check "the command line keeps KEY=VALUE" test "$(json "'--tag k40=v40 --tag url=a=b' in d['argv']")" = True

# --- the same libsvm option 70 times: each one is applied in order, the last counts and
# is the one recorded (the run's params once kept only the first 48 or so) ---
set --
for i in $(seq 70); do set -- "$@" -C "$i"; done
run --json train "$DATA/iris.csv" --name iris --label species "$@"
expect_rc "-C x70: exit 0" 0
check "-C x70: C is the last one" test "$(json "d['params']['C']")" = 70
train_run=$(json "d['run']")
run --json runs show "$train_run"
check "-C x70: the run records C 70, as fitted" test "$(json "d['params']['C'], d['params']['model.C']")" = "70 70"

# --- a tag without '=' is still a usage error naming the option ---
run train "$DATA/iris.csv" --name iris --label species --tag k1=v1 --tag broken
expect_rc "--tag without '=': exit 64" 64
expect_err "names the option and the value" '^mlctl: --tag: expected KEY=VALUE, got "broken"$'
