#!/bin/sh
# t0093-monitor-report.sh — the monitor's HTML report (lib/report.c) in a real browser:
# tests/cli/report_sample.c writes a report of a result filled by hand (a drifted numeric
# feature, a categorical one named "<script>&", the predictions, a performance drop, five
# past runs); headless Chromium loads it with no console message and no request anywhere,
# its DOM holds the charts and the name as text, and a screenshot is not blank and shows
# both histogram colours as bars (pixel columns, not a golden image). The checks are shown
# able to fail: a page with a script error is caught, a blank page is called blank. Then the
# same checks on a report `mlctl monitor` wrote itself (churn, a shifted column, a trend).
. "$(dirname "$0")/lib.sh"

here=$CLI_DIR
CHROMIUM=$(command -v chromium || command -v chromium-browser)
if [ -z "$CHROMIUM" ]; then
	pass "chromium not installed (Debian package chromium): browser checks skipped"
	exit 0
fi

# The sample is linked with the libmlctl.a of the build under test (built with the
# sanitizers when that build was).
libdir=$(dirname "$MLCTL")
libs="$(pkg-config --libs sqlite3 yaml-0.1 zlib jansson libmicrohttpd libarchive libsodium) -lsvm -lpthread -lm -ldl"
if ! cc -std=c11 -D_DEFAULT_SOURCE -I"$here/../../lib/include" -o "$TMP/report_sample" \
	"$here/report_sample.c" "$libdir/libmlctl.a" $libs 2>"$TMP/cc.err" &&
   ! cc -std=c11 -D_DEFAULT_SOURCE -fsanitize=address,undefined -I"$here/../../lib/include" \
	-o "$TMP/report_sample" "$here/report_sample.c" "$libdir/libmlctl.a" $libs 2>>"$TMP/cc.err"; then
	fail "building report_sample.c: $(head -c 600 "$TMP/cc.err")"
	exit 1
fi
"$TMP/report_sample" "$TMP/report.html" 3 2>"$TMP/err"
rc=$?
expect_rc "report_sample writes a report of 3 features" 0
check "the report starts with <!DOCTYPE html>" test "$(head -c 15 "$TMP/report.html")" = "<!DOCTYPE html>"

# Chromium refuses to run as root without --no-sandbox; with it, root works. Where it still
# will not, it runs as nobody, who must be able to read $TMP.
chmod 755 "$TMP"
as_user=
browser() {
	timeout 120 $as_user "$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$TMP/profile" \
		--no-first-run --disable-extensions --disable-background-networking \
		--host-resolver-rules="MAP * ~NOTFOUND" "$@"
}
if ! browser --dump-dom "file://$TMP/report.html" >/dev/null 2>"$TMP/probe.err"; then
	if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null; then
		as_user="runuser -u nobody --"
		rm -rf "$TMP/profile"
	fi
fi

# console FILE: load FILE, the DOM in $TMP/dom, the browser's log in $TMP/console, and
# every URL of its network log that the page asked for in $TMP/urls: the browser's own
# requests to its vendor (time, updates, dictionaries, accounts) are left out. The host
# resolver finds no name, so nothing leaves the machine either way.
console() {
	rm -f "$TMP/net.json"
	browser --enable-logging=stderr --v=0 --virtual-time-budget=2000 --log-net-log="$TMP/net.json" \
		--dump-dom "file://$1" >"$TMP/dom" 2>"$TMP/console"
	brc=$?
	grep -o '"url":"[^"]*"' "$TMP/net.json" 2>/dev/null |
		grep -Ev '"url":"[a-z]+://([a-z0-9-]+\.)*(google\.com|googleapis\.com|gvt1\.com|gstatic\.com)[:/]' |
		sort -u >"$TMP/urls"
	return $brc
}

# The detectors first: a page with a console error and an uncaught exception is caught, and
# so is one that asks for an image and a style sheet from elsewhere.
printf '<!DOCTYPE html><html><body><p>x</p><script>console.error("boom"); undefined_fn();</script></body></html>\n' >"$TMP/bad.html"
console "$TMP/bad.html"
check "the console check sees a script error (bad page)" grep -q "CONSOLE.*Uncaught" "$TMP/console"
printf '<!DOCTYPE html><html><body><img src="http://example.invalid/x.png"><link rel="stylesheet" href="https://cdn.example.invalid/a.css"></body></html>\n' >"$TMP/ext.html"
console "$TMP/ext.html"
check "the network check sees an image and a style sheet from elsewhere (bad page)" \
	test "$(grep -c 'example\.invalid' "$TMP/urls")" -eq 2

console "$TMP/report.html"
check "chromium loads the report (exit $brc)" test "$brc" -eq 0
if grep -E "CONSOLE|Uncaught" "$TMP/console" >"$TMP/console.bad"; then
	fail "console messages loading the report: $(head -c 600 "$TMP/console.bad")"
else
	pass "no console message loading the report"
fi
if [ -s "$TMP/urls" ]; then
	fail "the report asks for: $(head -c 400 "$TMP/urls" | tr '\n' ' ')"
else
	pass "the report asks for nothing over the network"
fi
nsvg=$(grep -o "<svg" "$TMP/dom" | wc -l)
check "the DOM has 8 charts (4 histograms: 3 features + predictions; 4 trends), got $nsvg" test "$nsvg" -eq 8
check "the DOM has no script element" sh -c "! grep -qi '<script' '$TMP/dom'"
check "the name <script>& is text in the DOM" grep -q "<td>&lt;script&gt;&amp;</td>" "$TMP/dom"
check "the verdict is in the DOM" grep -q "ALERT: dataset drift; prediction drift" "$TMP/dom"
check "a drifted row says DRIFT in text" grep -q "DRIFT</td>" "$TMP/dom"

# The screenshot: not blank, and the reference and current colours of lib/report.c
# (REF_COLOUR #3b6fb6, CUR_COLOUR #e8743b) as many bars side by side.
browser --screenshot="$TMP/shot.png" --window-size=1200,2000 "file://$TMP/report.html" \
	>/dev/null 2>"$TMP/shot.err"
if [ ! -s "$TMP/shot.png" ]; then
	fail "no screenshot: $(grep -v dbus "$TMP/shot.err" | head -c 600)"
else
	pycheck "$here/pngcheck.py" "$TMP/shot.png" 50 3b6fb6:10 e8743b:10
fi

# The pixel check can fail: a blank page is blank and has no bars.
printf '<!DOCTYPE html><html><body></body></html>\n' >"$TMP/blank.html"
browser --screenshot="$TMP/blank.png" --window-size=400,300 "file://$TMP/blank.html" \
	>/dev/null 2>&1
/usr/bin/python3 "$here/pngcheck.py" "$TMP/blank.png" 50 3b6fb6:10 >"$TMP/blank.out" 2>&1
check "the pixel check calls a blank page blank" grep -q "^FAIL not blank" "$TMP/blank.out"
check "the pixel check finds no bars on a blank page" grep -q "^FAIL colour #3b6fb6" "$TMP/blank.out"

# ---- a report mlctl monitor wrote itself: churn, its held-out customers with one column
# shifted, and two runs before (so it has a trend) ----
data=$DATA/mlc_churn.csv
run init -q
head -n 4001 "$data" >"$TMP/train.csv"
{ head -n 1 "$data"; tail -n 1000 "$data"; } >"$TMP/test.csv"
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next } { $7 = $7 * 1.5; print }' "$TMP/test.csv" >"$TMP/shift.csv"
run train "$TMP/train.csv" --name churn --label churn -C 4 --gamma 0.05 -q
expect_rc "train churn on 4000 rows" 0
run monitor churn --data "$TMP/test.csv" -q
run monitor churn --data "$TMP/test.csv" -q
run monitor churn --data "$TMP/shift.csv" --max-drop 0.05 --report "$TMP/real.html"
check "monitor wrote its report (exit $rc: 0 or 1)" test -s "$TMP/real.html"
console "$TMP/real.html"
check "chromium loads the real report (exit $brc)" test "$brc" -eq 0
if grep -E "CONSOLE|Uncaught" "$TMP/console" >"$TMP/console.bad"; then
	fail "console messages loading the real report: $(head -c 600 "$TMP/console.bad")"
else
	pass "no console message loading the real report"
fi
check "the real report asks for nothing over the network" test ! -s "$TMP/urls"
nsvg=$(grep -o "<svg" "$TMP/dom" | wc -l)
check "the real report has a histogram and a trend per feature and the predictions (40), got $nsvg" \
	test "$nsvg" -eq 40
check "the real report names the shifted column as drifted" \
	sh -c "grep -o '<tr[^>]*>.\{0,200\}total_day_minutes.\{0,400\}' '$TMP/dom' | grep -q DRIFT"
browser --screenshot="$TMP/real.png" --window-size=1200,3000 "file://$TMP/real.html" >/dev/null 2>"$TMP/shot.err"
if [ ! -s "$TMP/real.png" ]; then
	fail "no screenshot of the real report: $(grep -v dbus "$TMP/shot.err" | head -c 600)"
else
	pycheck "$here/pngcheck.py" "$TMP/real.png" 50 3b6fb6:10 e8743b:10
fi
