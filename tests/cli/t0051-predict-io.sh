#!/bin/sh
# t0051-predict-io.sh — what mlctl predict reads and writes, on mlc_churn.csv with an id
# column added: CSV and JSON lines output (parsed back, the same predictions and numbers),
# --id-column and --keep carry the input values through, --proba/--decision columns, bad
# rows with their line numbers (exit 65 and no output without --max-errors; the good rows
# and a --rejects list with it), stdin and stdout, a .mlpkg scored with no registry at all,
# and the recorded predict run with its metrics, lineage and profile.
. "$(dirname "$0")/lib.sh"

"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
awk -F, 'BEGIN { OFS = "," } NR == 1 { print "cust_id", $0; next } { print "c" NR - 1, $0 }' \
	"$DATA/mlc_churn.csv" >churn.csv
head -1001 churn.csv >c1k.csv
run train churn.csv --name churn --label churn --id-column cust_id --probability -C 8 -q
expect_rc "train churn" 0

# ---- CSV and JSON lines ----
run predict churn --input c1k.csv --output p.csv --proba --decision --keep state,churn
expect_rc "predict csv exits 0" 0
expect_out "the summary names the output" "Scored 1000 rows with churn:1 .* -> p.csv"
check "csv header: id (the model's), kept columns, prediction, p_*, decision" \
	test "$(head -1 p.csv)" = "cust_id,state,churn,prediction,p_no,p_yes,decision"
check "csv: 1000 rows" test "$(tail -n +2 p.csv | wc -l)" -eq 1000
check "csv: ids carried in input order" test "$(cut -d, -f1 p.csv | sed -n '2p;1001p' | tr '\n' ' ')" = "c1 c1000 "
check "csv: --keep values carried" test "$(cut -d, -f2,3 p.csv | sed -n 2p)" = "KS,no"
check "csv: probabilities add up to 1" /usr/bin/python3 -c "
import csv, sys
rows = list(csv.DictReader(open('p.csv')))
sys.exit(any(abs(float(r['p_no']) + float(r['p_yes']) - 1) > 1e-12 for r in rows))"
run predict churn --input c1k.csv --output p.jsonl --format jsonl --proba --decision --keep state,churn
expect_rc "predict jsonl exits 0" 0
check "jsonl: every line parses, same values as the CSV" /usr/bin/python3 -c "
import csv, json, sys
rows = list(csv.DictReader(open('p.csv')))
js = [json.loads(l) for l in open('p.jsonl')]
assert len(js) == len(rows) == 1000, (len(js), len(rows))
for r, j in zip(rows, js):
    assert list(j) == ['cust_id', 'state', 'churn', 'prediction', 'proba', 'decision'], list(j)
    assert (j['cust_id'], j['state'], j['churn'], j['prediction']) == (r['cust_id'], r['state'], r['churn'], r['prediction'])
    assert j['proba'] == {'no': float(r['p_no']), 'yes': float(r['p_yes'])}
    assert j['decision'] == float(r['decision'])
"
run predict churn --input c1k.csv --output p2.csv --id-column state --keep account_length
check "--id-column replaces the model's id column" test "$(sed -n 2p p2.csv)" = "KS,128,$(sed -n 2p p.csv | cut -d, -f4)"
run predict churn --input c1k.csv --output p2.csv --keep nosuch
expect_rc "--keep of a missing column exits 65" 65
expect_err "--keep of a missing column is named" '"nosuch" is not in the header'
run predict churn --input c1k.csv --output p2.csv --format xml
expect_rc "--format xml exits 64" 64
run predict churn --input c1k.csv --output "$TMP/nodir/p.csv"
expect_rc "output in a missing directory: exit 73" 73
run train c1k.csv --name noproba --label churn --id-column cust_id -q
run predict noproba --input c1k.csv --output p3.csv --proba
expect_rc "--proba with a model without probabilities: exit 64" 64
expect_err "... saying how to train one" "train it with --probability"
check "... and no output" test ! -e p3.csv

# Labels agree with --no-fast (libsvm's own svm_predict) on every row.
run predict churn --input churn.csv --output fast.csv --decision
run predict churn --input churn.csv --output slow.csv --decision --no-fast
check "churn: labels fast = --no-fast on 5000 rows" test "$(cut -d, -f2 fast.csv | md5sum)" = "$(cut -d, -f2 slow.csv | md5sum)"

# ---- bad rows ----
awk -F, 'BEGIN { OFS = "," } NR == 11 { $3 = "12x8" } NR == 21 { $0 = $0 ",extra" }
	NR == 31 { $8 = "abc" } NR == 41 { $2 = "\"ZZ\"" } NR == 51 { $9 = "" } NR == 61 { $0 = "c60,\"KS\"" }
	{ print }' c1k.csv >bad.csv
run predict churn --input bad.csv --output b.csv
expect_rc "bad rows without --max-errors: exit 65" 65
expect_err "the first bad row is named by line" 'bad\.csv:11: column "account_length": "12x8" is not a number'
check "bad rows without --max-errors: no output file" test ! -e b.csv
check "... and no temp file left" test -z "$(ls -A | grep '\.tmp\.')"
run predict churn --input bad.csv --output b.csv --max-errors 3 --rejects rej.txt
expect_rc "4 bad rows, --max-errors 3: exit 65" 65
expect_err "the row over the limit is named" 'bad\.csv:61: row has 2 fields.*--max-errors 3'
check "over --max-errors: no output, no rejects file" test ! -e b.csv -a ! -e rej.txt
run predict churn --input bad.csv --output b.csv --max-errors 4 --rejects rej.txt --batch 7 --threads 2
expect_rc "4 bad rows, --max-errors 4: exit 0" 0
expect_out "the summary counts the rejects" "996 rows .*; 4 rows rejected \(see rej.txt\)"
check "good rows written (996)" test "$(tail -n +2 b.csv | wc -l)" -eq 996
check "rejects listed by line, in input order" test "$(cut -d: -f1,2 rej.txt | tr '\n' ' ')" = \
	"bad.csv:11 bad.csv:21 bad.csv:31 bad.csv:61 "
expect_out "an unseen category is counted, not rejected" "1 values were categories unseen"
check "bad rows are the ones missing from the output" test \
	"$(cut -d, -f1 b.csv | grep -c -x -e c10 -e c20 -e c30 -e c60)" -eq 0
run predict churn --input c1k.csv --output clean.csv
check "good rows score as in the clean file" test \
	"$(grep -v -e '^c40,' -e '^c50,' b.csv | md5sum)" = \
	"$(grep -v -e '^c10,' -e '^c20,' -e '^c30,' -e '^c40,' -e '^c50,' -e '^c60,' clean.csv | md5sum)"
# a bad value with a line break inside quotes: still one reject line, with the row's line
{ head -3 c1k.csv; sed -n 4p c1k.csv | awk -F, 'BEGIN { OFS = "," } { $3 = "\"12\n8\""; print }'; sed -n 5p c1k.csv; } >nl.csv
run predict churn --input nl.csv --output nl.out --max-errors 1 --rejects nl.rej
expect_rc "a multi-line bad value within --max-errors: exit 0" 0
check "... one reject line naming line 4" test "$(wc -l <nl.rej) $(cut -d: -f2 nl.rej)" = "1 4"
check "... and the 3 good rows" test "$(cut -d, -f1 nl.out | tr '\n' ' ')" = "cust_id c1 c2 c4 "

# libsvm input: a malformed line is one bad row too
run train "$DATA/heart_scale" --format libsvm --name heart --scale none -q
awk 'NR == 5 { $2 = "2:x" } NR == 9 { $0 = $0 " 1:0.5" } NR == 12 { $0 = "+1 nopair" } { print }' \
	"$DATA/heart_scale" >bad.libsvm
run predict heart --input bad.libsvm --output h.csv
expect_rc "libsvm bad line: exit 65" 65
expect_err "libsvm bad line named" 'bad\.libsvm:5: feature 2: "x" is not a number'
run predict heart --input bad.libsvm --output h.csv --max-errors 3 --rejects hrej.txt
expect_rc "libsvm bad lines within --max-errors: exit 0" 0
check "libsvm: 267 rows scored" test "$(tail -n +2 h.csv | wc -l)" -eq 267
check "libsvm: rejects by line" test "$(cut -d: -f2 hrej.txt | tr '\n' ' ')" = "5 9 12 "

# ---- stdin and stdout ----
"$MLCTL" predict churn --input - <c1k.csv >out.csv 2>err.txt
check "stdin -> stdout: exit 0" test $? -eq 0
check "stdin -> stdout: the same predictions" cmp -s out.csv clean.csv
check "stdout: the summary goes to stderr" grep -q "Scored 1000 rows" err.txt
"$MLCTL" predict churn --input - --output - --format jsonl <c1k.csv 2>/dev/null | tail -1 >last.json
check "--output - is stdout" /usr/bin/python3 -c "import json; assert json.load(open('last.json'))['cust_id'] == 'c1000'"
gzip -c c1k.csv >c1k.csv.gz
run predict churn --input c1k.csv.gz --output gz.csv
check "gzipped input scores the same" cmp -s gz.csv clean.csv

# ---- the recorded run ----
run --json runs list --kind predict --limit 1
run_id=$(json 'd["runs"][0]["id"]')
run --json runs show "$run_id"
check "run: kind predict, succeeded, model churn:1" test "$(json '(d["kind"], d["status"], d["model"]["name"], d["model"]["version"])')" = "('predict', 'succeeded', 'churn', 1)"
check "run: metrics rows and rows_rejected" test "$(json '(d["metrics"]["rows"], d["metrics"]["rows_rejected"])')" = "(1000.0, 0.0)"
check "run: predicted[...] counts add up to the rows" test "$(json 'd["metrics"]["predicted[no]"] + d["metrics"]["predicted[yes]"]')" = 1000.0
check "run: predicted[yes] = the yes rows written" test "$(json 'int(d["metrics"]["predicted[yes]"])')" -eq "$(grep -c ',yes$' clean.csv)"
check "run: input digest = sha256 of the data" test "$(json '[l["digest"] for l in d["lineage"] if l["name"] == "data"][0]')" = \
	"$(sha256sum c1k.csv.gz | cut -d' ' -f1)"
check "run: the profile of the scored data is stored" test -n "$(json '[l["digest"] for l in d["lineage"] if l["name"] == "profile"][0]')"
check "run: seconds recorded" test "$(json 'd["metrics"]["seconds"] > 0')" = True
run --json runs list --kind predict --limit 0
check "every predict run is listed (the failed ones too)" test "$(json 'len([r for r in d["runs"] if r["status"] == "failed"])')" -ge 2
run --json predict churn --input bad.csv --output b.csv --max-errors 9
check "--json summary: rows, rejected, predicted" test "$(json '(d["rows"], d["rejected"], sum(d["predicted"].values()))')" = "(996, 4, 996)"

# ---- what a deploy target serves ----
run deploy churn:1 --target prod -q
expect_rc "deploy churn:1 to prod" 0
run predict --target prod --input c1k.csv --output tg.csv
expect_rc "predict --target prod exits 0" 0
check "--target prod scores with churn:1" cmp -s tg.csv clean.csv
run predict churn --target prod --input c1k.csv
expect_rc "a model and --target: exit 64" 64

# ---- a package, no registry anywhere ----
run package churn:1 -o "$TMP/churn.mlpkg"
expect_rc "package churn:1" 0
mkdir "$TMP/bare" && cp c1k.csv "$TMP/bare/" && cd "$TMP/bare" || exit 1
MLCTL_REGISTRY="$TMP/nowhere" "$MLCTL" predict "$TMP/churn.mlpkg" --input c1k.csv --output pk.csv >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc "a .mlpkg scores with no registry" 0
check "... the same predictions as from the registry" cmp -s pk.csv "$TMP/clean.csv"
check "... and no registry was made" test ! -e "$TMP/nowhere" -a ! -e .mlctl
MLCTL_REGISTRY="$TMP/nowhere" "$MLCTL" predict churn --input c1k.csv --output pk2.csv >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc "a model name with no registry exits 66" 66
cd "$TMP" || exit 1
