#!/bin/sh
# t0110-pipeline-errors.sh — every malformed pipeline file is refused before anything runs,
# with one message that names the file, the line and the column of the fault (and the
# nearest name for a misspelt one), exit 78; nothing is created or recorded. An unknown
# STAGE on the command line is a usage error (64) with a suggestion; a pipeline file that
# is not there is 66.
. "$(dirname "$0")/lib.sh"

dir=$(pwd -P)          # the pipeline files' directory, as the messages print it
mkdir in
cp "$DATA/iris.csv" in/day-01.csv
cp "$DATA/iris.csv" in/day-02.csv
unset MLCTL_T0100_UNSET

# A valid head: one data input (a real file), then the stages of each case.
head="name: bad
data:
  iris: $DATA/iris.csv"

# bad NAME FILE MESSAGE: `pipeline run FILE` and `pipeline status FILE` exit 78 with the
# one line "mlctl: MESSAGE" on stderr, and leave no registry behind.
bad() {
	what=$1 file=$2 msg=$3
	run pipeline run "$file"
	expect_rc "$what: run exits 78" 78
	if [ "$(cat "$TMP/err")" = "mlctl: $msg" ]; then pass "$what: the message"; else
		fail "$what: stderr is '$(head -c 600 "$TMP/err")', expected 'mlctl: $msg'"; fi
	check "$what: nothing on stdout" test ! -s "$TMP/out"
	run pipeline status "$file"
	expect_rc "$what: status exits 78" 78
	check "$what: status says the same" grep -qxF "mlctl: $msg" "$TMP/err"
	check "$what: no registry was created" test ! -e "$MLCTL_REGISTRY"
}

cat >yaml.yaml <<'EOF'
name: bad
stages:
  train: {data: x.csv, name: [a, b}
EOF
bad "bad YAML" yaml.yaml \
	"yaml.yaml:3:35: malformed YAML: did not find expected ',' or ']' while parsing a flow sequence"

cat >tab.yaml <<'EOF'
name: bad
stages:
	train:
EOF
bad "a tab for indentation" tab.yaml \
	"tab.yaml:3:1: malformed YAML: found character that cannot start any token while scanning for the next token"

printf '%s\nstagse:\n  train:\n    data: ${data.iris}\n' "$head" >topkey.yaml
bad "unknown top-level key" topkey.yaml \
	"topkey.yaml:4:1: unknown key 'stagse' (did you mean 'stages'?) (a pipeline has name, vars, data and stages)"

printf '%s\nstages:\n  trian:\n    data: ${data.iris}\n    name: iris\n' "$head" >stage.yaml
bad "unknown stage" stage.yaml \
	"stage.yaml:5:3: unknown stage 'trian' (did you mean 'train'?); a stage is one of train, validate, package, deploy, predict, monitor (or give its kind: KIND)"

printf '%s\nstages:\n  fit:\n    kind: learn\n    data: ${data.iris}\n' "$head" >kind.yaml
bad "unknown stage kind" kind.yaml \
	"kind.yaml:6:11: unknown stage kind 'learn'; a stage is one of train, validate, package, deploy, predict, monitor (or give its kind: KIND)"

printf '%s\nstages:\n  fit:\n    kind: trian\n    data: ${data.iris}\n' "$head" >kind2.yaml
bad "misspelt stage kind" kind2.yaml \
	"kind2.yaml:6:11: unknown stage kind 'trian' (did you mean 'train'?); a stage is one of train, validate, package, deploy, predict, monitor (or give its kind: KIND)"

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n    lable: species\n' "$head" >option.yaml
bad "unknown option" option.yaml \
	"option.yaml:8:5: stage train: unknown option 'lable' (did you mean 'label'?) ('mlctl train --help' lists a train stage's options)"

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n    cv: abc\n' "$head" >cv.yaml
bad "a word for a number" cv.yaml \
	'cv.yaml:8:9: stage train: cv is a whole number from 2 to 1000, not "abc"'

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n    cv: 1\n' "$head" >cv1.yaml
bad "a number out of range" cv1.yaml \
	'cv1.yaml:8:9: stage train: cv is a whole number from 2 to 1000, not "1"'

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n    probability: maybe\n' "$head" >flag.yaml
bad "neither true nor false" flag.yaml \
	'flag.yaml:8:18: stage train: probability is true or false, not "maybe"'

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: [iris, setosa]\n' "$head" >list.yaml
bad "a list for a one-value option" list.yaml \
	"list.yaml:7:11: stage train: name takes one value, not a list"

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n  validate:\n    model: ${train.model}\n    data: ${data.iris}\n    gate: {accuracy: 0.9}\n' \
	"$head" >map.yaml
bad "a mapping for a list option" map.yaml \
	"map.yaml:11:11: stage validate: gate takes a list, not a mapping"

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n    tag: [owner]\n' "$head" >kv.yaml
bad "a K=V option without =" kv.yaml \
	'kv.yaml:8:11: stage train: tag takes KEY=VALUE items, not "owner"'

printf 'name: bad\nvars:\n  label: species\ndata:\n  iris: %s/iris.csv\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n    label: ${lable}\n' \
	"$DATA" >var.yaml
bad "unknown variable" var.yaml \
	"var.yaml:10:12: unknown variable \${lable} (did you mean 'label'?)"

printf 'name: bad\nvars:\n  d: ${env:MLCTL_T0100_UNSET}\nstages:\n  train:\n    data: %s/iris.csv\n    name: iris\n' \
	"$DATA" >env.yaml
bad "unset environment variable" env.yaml \
	"env.yaml:3:6: environment variable MLCTL_T0100_UNSET is not set (write \${env:MLCTL_T0100_UNSET:-DEFAULT} for a default)"

printf 'name: bad\nvars:\n  d: ${env:MLCTL_T0100_UNSET:-%s}\nstages:\n  train:\n    data: ${d}/nothere.csv\n    name: iris\n' \
	"$DATA" >envdefault.yaml
bad "an environment default is used (and the file it names must exist)" envdefault.yaml \
	"envdefault.yaml:6:11: stage train: data: input file $DATA/nothere.csv does not exist"

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: ${oops\n' "$head" >brace.yaml
bad "a \${ without its }" brace.yaml \
	"brace.yaml:7:11: \"\${oops\": '\${' without its '}'"

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n  validate:\n    model: ${trian.model}\n    data: ${data.iris}\n' \
	"$head" >refstage.yaml
bad "reference to an unknown stage" refstage.yaml \
	"refstage.yaml:9:12: \${trian.model}: no stage called 'trian' (did you mean 'train'?)"

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n  validate:\n    model: ${train.modle}\n    data: ${data.iris}\n' \
	"$head" >refout.yaml
bad "reference to an unknown output" refout.yaml \
	"refout.yaml:9:12: \${train.modle}: a train stage's outputs are model, run"

printf '%s\nstages:\n  train:\n    data: ${data.iriss}\n    name: iris\n' "$head" >refdata.yaml
bad "reference to an unknown data input" refdata.yaml \
	"refdata.yaml:6:11: \${data.iriss}: no data input called 'iriss'"

printf 'name: bad\nvars:\n  m: ${train.model}\n%s\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n' \
	"$(printf '%s' "$head" | sed 1d)" >varref.yaml
bad "a stage reference in vars" varref.yaml \
	"varref.yaml:3:6: \"\${train.model}\": \${train.model} is a stage reference, which only stages may use"

printf '%s\nstages:\n  a:\n    kind: validate\n    model: ${b.model}\n    data: ${data.iris}\n  b:\n    kind: validate\n    model: ${a.model}\n    data: ${data.iris}\n' \
	"$head" >cycle.yaml
bad "a cycle of two stages" cycle.yaml \
	"cycle.yaml:5:3: stages a, b depend on each other (a cycle)"

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n    after: validate\n  validate:\n    model: ${train.model}\n    data: ${data.iris}\n' \
	"$head" >cycleafter.yaml
bad "a cycle through after:" cycleafter.yaml \
	"cycleafter.yaml:5:3: stages train, validate depend on each other (a cycle)"

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n    after: train\n' "$head" >self.yaml
bad "after: itself" self.yaml \
	"self.yaml:8:12: stage train: after itself (a cycle)"

printf '%s\nstages:\n  v:\n    kind: validate\n    model: ${v.model}\n    data: ${data.iris}\n' "$head" >selfref.yaml
bad "a stage using its own output" selfref.yaml \
	"selfref.yaml:7:12: \${v.model}: stage 'v' refers to its own output (a cycle)"

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n    after: tarin\n' "$head" >after.yaml
bad "after: an unknown stage" after.yaml \
	"after.yaml:8:12: stage train: after: no stage called 'tarin'"

printf 'name: bad\ndata:\n  iris: nothere.csv\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n' >missdata.yaml
bad "missing data: file" missdata.yaml \
	"missdata.yaml:3:9: data iris: input file $dir/nothere.csv does not exist"

printf 'name: bad\nstages:\n  train:\n    data: nothere.csv\n    name: iris\n' >missinput.yaml
bad "missing literal input path" missinput.yaml \
	"missinput.yaml:4:11: stage train: data: input file $dir/nothere.csv does not exist"

printf 'name: bad\ndata:\n  iris:\n    path: %s/iris.csv\n    store: maybe\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n' \
	"$DATA" >store.yaml
bad "store is neither true nor false" store.yaml \
	"store.yaml:5:12: data iris: store is true or false"

printf 'name: bad\ndata:\n  iris:\n    pth: %s/iris.csv\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n' \
	"$DATA" >datakey.yaml
bad "unknown key of an input" datakey.yaml \
	"datakey.yaml:4:5: data iris: unknown key 'pth' (did you mean 'path'?) (an input has path and store)"

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: ${each.stem}\n' "$head" >each.yaml
bad "\${each.*} in a stage that does not run per file" each.yaml \
	"each.yaml:7:11: stage train: \${each.*} is for a stage that runs once per file of an input with a pattern"

printf 'name: bad\ndata:\n  days: in/*.csv\nstages:\n  train:\n    data: ${data.days}\n    name: ${each.base}\n' >eachfield.yaml
bad "an unknown \${each.*} field" eachfield.yaml \
	"eachfield.yaml:7:11: \${each.base}: each has path, name and stem"

printf 'name: bad\ndata:\n  days: in/*.csv\n  more: in/day-*.csv\nstages:\n  train:\n    data: ${data.days}\n    name: iris\n    test: ${data.more}\n' >twoeach.yaml
bad "a stage per file of two patterns" twoeach.yaml \
	"twoeach.yaml:9:11: \${data.more}: a stage runs once per file of one input, and this one already runs per file of 'days'"

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n    name: other\n' "$head" >dup.yaml
bad "duplicate key" dup.yaml \
	"dup.yaml:8:5: 'name' appears twice (first on line 7)"

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n  train:\n    data: ${data.iris}\n' "$head" >dupstage.yaml
bad "duplicate stage" dupstage.yaml \
	"dupstage.yaml:8:3: 'train' appears twice (first on line 5)"

printf '%s\nstages: {}\n' "$head" >empty.yaml
bad "empty stages" empty.yaml "empty.yaml:4:9: stages is empty"

printf '%s\n' "$head" >nostages.yaml
bad "no stages" nostages.yaml "nostages.yaml:1:1: no stages"

: >blank.yaml
bad "an empty file" blank.yaml "blank.yaml: empty pipeline file"

printf '%s\nstages:\n  train: fast\n' "$head" >notmap.yaml
bad "a stage that is not a mapping" notmap.yaml "notmap.yaml:5:10: stage train: a mapping of its options"

printf '%s\nstages:\n  train:\n    data: ${data.iris}\n  validate:\n    model: ${train.model}\n' "$head" >required.yaml
bad "a required option missing" required.yaml "required.yaml:6:5: stage train: name is required"

printf 'name: "no spaces"\nstages:\n  train:\n    data: %s/iris.csv\n    name: iris\n' "$DATA" >name.yaml
bad "a bad pipeline name" name.yaml "name.yaml:1:7: name: letters, digits, '.', '_' and '-'"

# A good file, for the command line's errors.
printf '%s\nstages:\n  train:\n    data: ${data.iris}\n    name: iris\n    label: species\n' "$head" >good.yaml

run pipeline run good.yaml trian
expect_rc "unknown STAGE on the command line exits 64" 64
check "unknown STAGE: the message" grep -qxF "mlctl: good.yaml has no stage called 'trian'" "$TMP/err"
check "unknown STAGE: the suggestion" grep -qxF "mlctl: did you mean 'train'?" "$TMP/err"
run pipeline run good.yaml --force validate
expect_rc "--force with an unknown STAGE exits 64" 64
check "--force with an unknown STAGE: the message" grep -qxF "mlctl: good.yaml has no stage called 'validate'" "$TMP/err"
check "no registry was created for a usage error" test ! -e "$MLCTL_REGISTRY"

run pipeline run nothere.yaml
expect_rc "a pipeline file that is not there: run exits 66" 66
expect_err "a pipeline file that is not there: the message" '^mlctl: .*nothere\.yaml: No such file or directory$'
run pipeline status nothere.yaml
expect_rc "a pipeline file that is not there: status exits 66" 66
run pipeline run
expect_rc "no pipeline file: exit 64" 64
expect_err "no pipeline file: the message" "no pipeline file given"
run pipeline status good.yaml other.yaml
expect_rc "status takes one file: exit 64" 64

# The good file is good: its dry run names its one stage (and records nothing).
"$MLCTL" init >/dev/null
run pipeline run --dry-run good.yaml
expect_rc "the good file loads" 0
expect_out "its dry run has its stage" '^train +never run$'
