#!/bin/sh
# t0040-validate.sh — mlctl validate as a CI job uses it, on mlc_churn.csv (first 4000 rows
# to train, last 1000 to validate): gates that pass (exit 0) and fail (exit 1) with the
# JUnit report parsed and checked against a JUnit schema, every operator, champion/challenger
# with --max-drop and --min-improvement, a champion alias that does not exist yet,
# validation data whose columns differ from the schema, the verdicts in `models show` and
# `deploy --require-validated`, the lineage of the run, and the usage/data errors 64/65/66.
. "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
"$MLCTL" init >/dev/null || { fail "init"; exit 1; }
head -n 4001 "$DATA/mlc_churn.csv" >train.csv
{ head -n 1 "$DATA/mlc_churn.csv"; tail -n 1000 "$DATA/mlc_churn.csv"; } >val.csv
# How many of the held-out rows churned, straight from the file.
nyes=$(tail -n 1000 "$DATA/mlc_churn.csv" | grep -c ',"yes"$')

# py EXPR FILE: a Python expression over the JSON document in FILE (d).
py() { /usr/bin/python3 -c "import json,sys; d=json.load(open('$2')); print($1)"; }
# junit FILE EXPR: a Python expression over the parsed JUnit report (r: root element,
# cases: the testcases, fails: the failure elements).
junit() {
	/usr/bin/python3 -c "
import xml.etree.ElementTree as ET
r = ET.parse('$1').getroot()
cases = r.findall('.//testcase')
fails = r.findall('.//testcase/failure')
print($2)"
}
xsd_ok() { xmllint --noout --schema "$here/junit.xsd" "$1" 2>"$TMP/xsd"; }

run train train.csv --name churn --label churn -C 32 --gamma 0.03125
expect_rc "train the champion (C=32, gamma=2^-5)" 0

# ---- gates that pass ----
run validate churn:1 --data val.csv --gate 'accuracy>=0.85' --gate ' recall[yes] >= 0.4 ' --junit pass.xml
expect_rc "passing gates exit 0" 0
expect_out "human: metrics table" "^  accuracy +0\.[0-9]+$"
expect_out "human: per-class metric" "^  recall\[yes\] +0\.[0-9]+$"
expect_out "human: confusion matrix" "^confusion matrix"
expect_out "human: gate PASS with value and bound" "^  PASS  accuracy >= 0\.85 +value 0\.[0-9]+, bound 0\.85$"
expect_out "human: per-class gate in canonical form" "^  PASS  recall\[yes\] >= 0\.4 +value 0\.[0-9]+, bound 0\.4$"
expect_out "human: verdict PASS" "^verdict: PASS$"
check "JUnit (pass): 2 tests, 0 failures" test "$(junit pass.xml '(r.get("tests"), r.get("failures"), len(cases), len(fails))')" = \
	"('2', '0', 2, 0)"
check "JUnit (pass): valid against the JUnit schema" xsd_ok pass.xml

run --json validate churn:1 --data val.csv --gate 'accuracy>=0.85' --gate 'recall[yes]>=0.9' --junit fail.xml
expect_rc "a failing gate exits 1" 1
cp "$TMP/out" fail.json
check "--json: pass is false" test "$(py 'd["pass"]' fail.json)" = False
check "--json: keys" test "$(py 'sorted(d)' fail.json)" = \
	"['champion', 'champion_missing', 'comparisons', 'confusion_matrix', 'data_digest', 'gates', 'imputed_cells', 'metrics', 'model', 'pass', 'rows', 'run', 'unseen_categories']"
check "--json: 1000 rows of churn:1" test "$(py '(d["rows"], d["model"])' fail.json)" = "(1000, 'churn:1')"
check "--json: gates with value, bound, verdict" test \
	"$(py '[(g["metric"], g["bound"], g["pass"], g["value"] == d["metrics"][g["metric"]]) for g in d["gates"]]' fail.json)" = \
	"[('accuracy', 0.85, True, True), ('recall[yes]', 0.9, False, True)]"
check "--json: support[yes] is the number of churners in the file ($nyes)" \
	test "$(py 'int(d["metrics"]["support[yes]"])' fail.json)" = "$nyes"
check "--json: accuracy is the confusion matrix's diagonal over the rows" test \
	"$(py 'd["metrics"]["accuracy"] == sum(d["confusion_matrix"]["counts"][i][i] for i in range(2)) / 1000' fail.json)" = True
check "--json: recall[yes] is the matrix's yes row" test \
	"$(py '(lambda c: d["metrics"]["recall[yes]"] == c[1][1] / (c[1][0] + c[1][1]))(d["confusion_matrix"]["counts"])' fail.json)" = True
check "JUnit (fail): 2 tests, exactly 1 failure" \
	test "$(junit fail.xml '(r.get("tests"), r.get("failures"), r[0].get("tests"), r[0].get("failures"), len(cases), len(fails))')" = \
	"('2', '1', '2', '1', 2, 1)"
check "JUnit (fail): the failing case is the recall gate" \
	test "$(junit fail.xml '[c.get("name") for c in cases if c.find("failure") is not None]')" = "['recall[yes] >= 0.9']"
recall=$(py 'repr(d["metrics"]["recall[yes]"])' fail.json)
check "JUnit (fail): the failure message carries the value ($recall) and the bound" test \
	"$(junit fail.xml "fails[0].get('message')")" = "recall[yes] = $recall, required recall[yes] >= 0.9"
check "JUnit (fail): the failure text says it too" \
	test "$(junit fail.xml "'$recall' in fails[0].text and '0.9' in fails[0].text")" = True
check "JUnit (fail): valid against the JUnit schema" xsd_ok fail.xml
run validate churn:1 --data val.csv --gate 'recall[yes]>=0.9'
expect_out "human: gate FAIL with value and bound" "^  FAIL  recall\[yes\] >= 0\.9 +value 0\.[0-9]+, bound 0\.9$"
expect_out "human: verdict FAIL" "^verdict: FAIL$"

# ---- every operator, on values known exactly ----
for g in "support[yes]==$nyes" "support[yes]>=$nyes" "support[yes]<=$nyes" "accuracy<1" "accuracy>0.5" \
	"support[yes] > $((nyes - 1))" "support[no]<1000"; do
	run -q validate churn:1 --data val.csv --gate "$g"
	expect_rc "gate '$g' passes" 0
done
for g in "support[yes]==$((nyes + 1))" "support[yes]>$nyes" "support[yes]<$nyes" "accuracy>1" "accuracy<=0.5"; do
	run -q validate churn:1 --data val.csv --gate "$g"
	expect_rc "gate '$g' fails" 1
done

# ---- champion / challenger ----
run train train.csv --name churn --label churn -C 0.03125 --kernel linear
expect_rc "train a weak challenger (linear, C=2^-5)" 0
run models alias churn@production 1
expect_rc "alias churn@production -> 1" 0
run --json validate churn:2 --data val.csv --against churn@production --max-drop 0.01 --junit champ.xml
expect_rc "weak challenger against the champion, --max-drop 0.01: exit 1" 1
cp "$TMP/out" weak.json
check "--json: champion is churn:1" test "$(py 'd["champion"]' weak.json)" = "churn:1"
check "--json: one comparison on accuracy, failed, rule max-drop 0.01" test \
	"$(py '[(c["metric"], c["pass"], c["rule"], c["champion"] - c["candidate"] > 0.01) for c in d["comparisons"]]' weak.json)" = \
	"[('accuracy', False, 'max-drop 0.01', True)]"
check "JUnit: the comparison is a failed test case" \
	test "$(junit champ.xml '(r.get("tests"), r.get("failures"), fails[0].get("message").startswith("accuracy: candidate "))')" = \
	"('1', '1', True)"
check "JUnit (champion): valid against the JUnit schema" xsd_ok champ.xml
run validate churn:1 --data val.csv --against churn:2 --max-drop 0.01
expect_rc "the champion against the weak one passes" 0
expect_out "human: comparison PASS" "^  PASS  accuracy +candidate 0\.[0-9]+, champion 0\.[0-9]+$"
run validate churn:2 --data val.csv --against @production --gate 'recall[yes]>=0' --max-drop 0.01
expect_rc "@production is churn@production; gated metric compared" 1
expect_out "@ALIAS resolves to the candidate's alias" "^against champion churn:1 \(max-drop 0\.01\):$"
expect_out "the gated metric is the one compared" "^  FAIL  recall\[yes\] +candidate 0, champion 0\.[0-9]+$"
run validate churn:1 --data val.csv --against churn@production
expect_rc "against itself without --max-drop (no drop allowed): passes" 0
run validate churn:1 --data val.csv --against churn@production --min-improvement 0.01
expect_rc "against itself with --min-improvement 0.01: exit 1" 1
run validate churn:1 --data val.csv --against churn:2 --min-improvement 0.01
expect_rc "the champion improves on the weak one by more than 0.01: exit 0" 0
run validate churn:1 --data val.csv --against churn@nonexistent --max-drop 0.01
expect_rc "--against an alias that does not exist yet passes" 0
expect_out "and says it does not exist yet" "churn@nonexistent does not exist yet"
run --json validate churn:1 --data val.csv --against churn@nonexistent
check "--json: champion_missing, no comparison" test "$(json '(d["champion_missing"], d["champion"], d["comparisons"], d["pass"])')" = \
	"(True, None, [], True)"
run validate churn:1 --data val.csv --against chrun@production
expect_rc "--against a model name that does not exist: exit 66" 66
expect_err "and names it" "no model named chrun"
run validate churn:1 --data val.csv --against churn:9
expect_rc "--against a missing version: exit 66" 66
# A package validated on a host whose registry never saw the model: its first deployment.
run package churn:1 -o churn-1.mlpkg
expect_rc "package churn:1" 0
"$MLCTL" init "$TMP/fresh" >/dev/null || fail "init a second registry"
run --registry "$TMP/fresh/.mlctl" validate churn-1.mlpkg --data val.csv --against @production --max-drop 0.01
expect_rc "a package against its own alias in a fresh registry: passes" 0
expect_out "and says the champion does not exist yet" "churn@production does not exist yet"
run --registry "$TMP/fresh/.mlctl" validate churn-1.mlpkg --data val.csv --against other@production
expect_rc "a package against another, unknown model: exit 66" 66

# ---- validation data whose columns differ from the schema ----
cut -d, -f1-3,5- val.csv >missing.csv
run validate churn:1 --data missing.csv
expect_rc "a required column missing: exit 65" 65
expect_err "and the column is named" '"international_plan" is missing from missing.csv'
awk 'NR == 1 { print "\"extra\"," $0; next } { print NR "," $0 }' val.csv >extra.csv
run --json validate churn:1 --data extra.csv
expect_rc "an extra column is ignored" 0
check "with the same metrics" test "$(json 'd["metrics"]')" = "$(py 'd["metrics"]' fail.json)"
sed '2,8s/^"[A-Z][A-Z]"/"ZZ"/; 9s/"area_code_[0-9]*"/"area_code_999"/' val.csv >unseen.csv
run validate churn:1 --data unseen.csv
expect_rc "unseen categories: still validated" 0
expect_out "unseen categories counted in the human output" "^  8 values were categories unseen in training"
run --json validate churn:1 --data unseen.csv
check "--json: unseen_categories 8" test "$(json 'd["unseen_categories"]')" = 8
cut -d, -f1-19 val.csv >nolabel.csv
run validate churn:1 --data nolabel.csv
expect_rc "no label column: exit 65" 65
expect_err "and the label column is named" 'label column "churn" is missing'

# ---- the verdicts in the registry ----
run --json validate churn:2 --data val.csv --gate 'recall[yes]>=0.5'
expect_rc "churn:2 fails its gate" 1
v2=$(json 'd["run"]')
run --json validate churn:1 --data val.csv --gate 'accuracy>=0.85'
expect_rc "churn:1 passes its gate" 0
v1=$(json 'd["run"]')
digest=$(json 'd["data_digest"]')
run models show churn
expect_rc "models show exits 0" 0
expect_out "models show: version 2's validation failed" "^2 .* fail $(echo "$v2" | cut -c1-10)$"
expect_out "models show: version 1's validation passed" "^1 .*@production +pass $(echo "$v1" | cut -c1-10)$"
run --json models show churn
check "models show --json: version 2 lists its validations with verdicts" test \
	"$(json "[(x['run'], x['verdict']) for v in d['versions'] if v['version'] == 2 for x in v['validations']][0]")" = "('$v2', 'fail')"
check "models show --json: version 1's newest validation passed" test \
	"$(json "[(x['run'], x['verdict']) for v in d['versions'] if v['version'] == 1 for x in v['validations']][0]")" = "('$v1', 'pass')"
run --json runs show "$v1"
check "the validation run is linked to churn:1 with its verdict" test \
	"$(json '(d["kind"], d["model"], d["verdict"], d["status"])')" = \
	"('validate', {'name': 'churn', 'version': 1}, 'pass', 'succeeded')"
check "its lineage holds the data digest and the model" test \
	"$(json 'sorted((o["role"], o["name"], o["digest"] == "'"$digest"'") for o in d["lineage"])')" = \
	"[('input', 'data', True), ('input', 'model', False)]"
check "it records every metric and the gate's verdict" test \
	"$(json '(d["metrics"]["accuracy"] > 0.85, d["metrics"]["rows"], d["tags"]["gate: accuracy >= 0.85"].split()[0])')" = \
	"(True, 1000.0, 'pass')"
run deploy churn:2 --target prod --path "$TMP/prod" --require-validated
expect_rc "deploy --require-validated refuses a version whose validation failed" 1
expect_err "and says why" "churn:2: its latest validation .* did not pass"
run deploy churn:1 --target prod --path "$TMP/prod" --require-validated
expect_rc "deploy --require-validated accepts a version that passed" 0

# ---- one-class: the outlier rate is the share of -1 predictions ----
run train train.csv --name oc --type one-class --exclude churn --nu 0.1
expect_rc "train a one-class model" 0
run --json validate oc --data val.csv --gate 'outlier_rate<=0.5'
expect_rc "one-class gate passes" 0
rate=$(json 'd["metrics"]["outlier_rate"]')
run predict oc --input val.csv --output oc.csv
check "outlier_rate ($rate) is the share of -1 that predict gives" \
	test "$rate" = "$(awk 'NR > 1 && $1 == -1 { n++ } END { print n / 1000 }' oc.csv)"

# ---- bad usage and bad input ----
run validate churn:1 --data val.csv --gate 'acuracy>=0.9'
expect_rc "unknown metric in a gate: exit 64" 64
expect_err "with a suggestion" 'unknown metric "acuracy"; did you mean "accuracy"'
run validate churn:1 --data val.csv --gate 'recal[yes]>=0.9'
expect_rc "unknown per-class metric: exit 64" 64
expect_err "with a per-class suggestion" 'did you mean "recall\[yes\]"'
run validate churn:1 --data val.csv --gate 'recall[maybe]>=0.9'
expect_rc "a class the model does not have: exit 64" 64
expect_err "naming the classes it has" 'class "maybe" is not in the report; its classes are: no, yes'
run validate churn:1 --data val.csv --gate 'mse<=1'
expect_rc "a regression metric on a classifier: exit 64" 64
run validate churn:1 --data val.csv --gate 'accuracy=>0.9'
expect_rc "a malformed gate: exit 64" 64
expect_err "says what was expected" "expected an operator"
run validate churn:1 --data val.csv --max-drop 0.1
expect_rc "--max-drop without --against: exit 64" 64
run validate churn:1 --data val.csv --against churn:2 --max-drop -0.1
expect_rc "a negative --max-drop: exit 64" 64
expect_err "says why" "cannot be negative"
run validate churn:1
expect_rc "no --data: exit 64" 64
set --
for i in $(seq 65); do set -- "$@" --gate "accuracy>=0.$i"; done
run validate churn:1 --data val.csv "$@"
expect_rc "65 gates: exit 64" 64
expect_err "says how many are allowed" "at most 64 --gate"
run validate churn:1 --data nope.csv
expect_rc "missing --data file: exit 66" 66
expect_err "names the file" "nope.csv"
run validate nomodel --data val.csv
expect_rc "missing model: exit 66" 66
sed '5s/^\("[A-Z]*"\),[0-9]*,/\1,4O,/' val.csv >bad.csv
run validate churn:1 --data bad.csv
expect_rc "malformed data: exit 65" 65
expect_err "names file, line, column and value" 'bad.csv:5: column "account_length": "4O" is not a number'
printf 'a,b\n1\n' >ragged.csv
run validate churn:1 --data ragged.csv
expect_rc "ragged data: exit 65" 65
run validate churn:1 --data val.csv --gate 'accuracy>=0.5' --junit reports/ci/validate.xml
expect_rc "--junit into a directory that does not exist yet: created" 0
check "the report is there" test -s reports/ci/validate.xml
run validate churn:1 --data val.csv --gate 'accuracy>=0.5' --junit val.csv/j.xml
expect_rc "an unwritable --junit path: exit 73" 73
