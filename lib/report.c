/*
 * report.c — the monitor's self-contained HTML report (floor 3): the verdicts, a table of
 * every feature's test, an inline SVG chart of the reference and current histograms of each
 * feature and of the predictions, and the trend of each statistic over past monitor runs.
 *
 * The page is meant to be mailed, attached to a CI job or opened from a cron host's disk
 * years later, so it holds everything itself: one HTML5 file in UTF-8 with inline CSS and
 * inline SVG, no script, no font, no image and no address of any kind. It is drawn from the
 * result's bins and statistics, never from rows, so its size depends on the features, the
 * bins and the history only. Feature names, category labels, the model's name and the
 * source come from user data: every one of them is escaped, and bytes that are not UTF-8
 * become U+FFFD so that the page stays valid UTF-8.
 *
 * Numbers are written with the C conventions whatever the host's locale says: a decimal
 * comma in an SVG coordinate would break the drawing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlctl/monitor.h"

#include "error.h"
#include "fsutil.h"
#include "util.h"
#include "banned.h"

/* The two sides' colours, named in the CSS and used as SVG fills; tests/cli/t0093 looks for
 * these exact colours in a screenshot. */
#define REF_COLOUR "#3b6fb6"
#define CUR_COLOUR "#e8743b"
#define DRIFT_COLOUR "#c62828"

/* Histogram chart geometry, in SVG user units (px at the page's scale). */
#define H_W 420
#define H_H 230
#define H_LEFT 52
#define H_RIGHT 12
#define H_TOP 44
#define H_BOTTOM 84

/* Trend chart geometry. */
#define T_W 420
#define T_H 170
#define T_LEFT 52
#define T_RIGHT 12
#define T_TOP 40
#define T_BOTTOM 40

/* The longest bin label drawn under a bar, in characters (the whole one is in the bar's
 * tooltip). */
#define LABEL_CHARS 12

static const char style_css[] =
	"body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,Helvetica,Arial,sans-serif;"
	"margin:24px;color:#1f2328;background:#fff;line-height:1.4}\n"
	"h1{font-size:1.5em;margin:0 0 .5em}h2{font-size:1.2em;margin:1.6em 0 .5em;"
	"border-bottom:1px solid #d0d7de;padding-bottom:.2em}\n"
	".verdict{font-size:1.15em;font-weight:600;padding:.6em .9em;border-radius:6px;margin:.8em 0}\n"
	".verdict.alert{background:#fde7e7;border:2px solid " DRIFT_COLOUR ";color:#8e1b1b}\n"
	".verdict.ok{background:#e6f4ea;border:2px solid #2e7d32;color:#1b5e20}\n"
	"table{border-collapse:collapse;font-size:.9em;margin:.4em 0}\n"
	"th,td{border:1px solid #d0d7de;padding:.25em .55em;text-align:left;vertical-align:top}\n"
	"th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	"table.summary th{width:13em}\n"
	"tr.drift td{background:#fdecea}tr.drift td.verdict-cell{color:#8e1b1b;font-weight:700}\n"
	"tr.ok td.verdict-cell{color:#1b5e20}\n"
	"tr.pred td:first-child{font-style:italic}\n"
	".charts{display:flex;flex-wrap:wrap;gap:12px}\n"
	".chart{border:1px solid #d0d7de;border-radius:6px;padding:4px;background:#fff}\n"
	".chart.drift{border:2px solid " DRIFT_COLOUR "}\n"
	"svg text{font-family:inherit;fill:#1f2328}\n"
	"svg .ttl{font-size:13px;font-weight:600}svg .sub{font-size:11px}"
	"svg .tick{font-size:10px;fill:#57606a}svg .axis{stroke:#57606a;stroke-width:1}\n"
	"svg .grid{stroke:#eaeef2;stroke-width:1}\n"
	"svg .ref{fill:" REF_COLOUR "}svg .cur{fill:" CUR_COLOUR "}\n"
	"svg .line{fill:none;stroke:" REF_COLOUR ";stroke-width:2}\n"
	"svg .pt{fill:" REF_COLOUR "}svg .pt.now{fill:" CUR_COLOUR "}\n"
	"svg .thr{stroke:" DRIFT_COLOUR ";stroke-width:1.5;stroke-dasharray:5 4}\n"
	"svg .flag{fill:" DRIFT_COLOUR ";opacity:.85}\n"
	".note{color:#57606a;font-size:.9em}\n";

/*
 * Append str escaped for HTML text or a quoted attribute, at most max characters of it (0:
 * all), with "…" when it was cut. Markup characters become references; bad UTF-8 and the
 * controls HTML does not allow become U+FFFD; tabs and line ends become spaces.
 */
static int esc_n(strbuf *sb, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	unsigned long cp;
	size_t len, n = 0;
	int ret = 0;

	while (*s && !ret) {
		if (max && n++ == max)
			return strbuf_puts(sb, "\xE2\x80\xA6");
		len = mlctl_utf8_decode(s, &cp);
		if (len == 0) {
			ret = strbuf_puts(sb, "\xEF\xBF\xBD");
			s++;
			continue;
		}
		switch (cp) {
		case '&': ret = strbuf_puts(sb, "&amp;"); break;
		case '<': ret = strbuf_puts(sb, "&lt;"); break;
		case '>': ret = strbuf_puts(sb, "&gt;"); break;
		case '"': ret = strbuf_puts(sb, "&quot;"); break;
		case '\'': ret = strbuf_puts(sb, "&#39;"); break;
		case '\t': case '\n': case '\r': ret = strbuf_puts(sb, " "); break;
		default:
			if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
				ret = strbuf_puts(sb, "\xEF\xBF\xBD");
			else
				ret = strbuf_add(sb, s, len);
			break;
		}
		s += len;
	}
	return ret;
}

static int esc(strbuf *sb, const char *s)
{
	return esc_n(sb, s, 0);
}

/*
 * Format v with printf's fmt (one double) into buf, with '.' as the decimal point whatever
 * LC_NUMERIC says; "—" for NaN, "∞" for infinities. buf holds 48 bytes.
 */
static const char *fmt_num(char buf[48], const char *fmt, double v)
{
	char *p;

	if (isnan(v))
		return "\xE2\x80\x94";
	if (isinf(v))
		return v > 0 ? "\xE2\x88\x9E" : "\xE2\x88\x92\xE2\x88\x9E";
	snprintf(buf, 48, fmt, v);
	for (p = buf; *p; p++)
		if (*p == ',')
			*p = '.';
	return buf;
}

/* A share as a percentage with one decimal ("—" for NaN). The number is cut at 40 bytes
 * (a share is at most 1; a wild one must still leave room for the sign). */
static const char *fmt_pct(char buf[48], double share)
{
	if (!isfinite(share))
		return fmt_num(buf, "%.1f", share);
	fmt_num(buf, "%.1f", share * 100);
	buf[40] = '\0';
	memcpy(buf + strlen(buf), "%", 2);
	return buf;
}

/* Append an SVG coordinate rounded to a tenth, written without the locale. */
static int put_coord(strbuf *sb, double v)
{
	long long t;

	if (!isfinite(v))
		v = 0;
	t = llround(v * 10);
	if (t < 0)
		return strbuf_printf(sb, "-%lld.%lld", -t / 10, -t % 10);
	return strbuf_printf(sb, "%lld.%lld", t / 10, t % 10);
}

/* " name=\"v\"" for a coordinate attribute. */
static int put_attr(strbuf *sb, const char *name, double v)
{
	int ret;

	if ((ret = strbuf_printf(sb, " %s=\"", name)) || (ret = put_coord(sb, v)))
		return ret;
	return strbuf_puts(sb, "\"");
}

/* <text> at (x, y) of class cls, anchored, holding the escaped text s (cut at max chars). */
static int put_text(strbuf *sb, double x, double y, const char *cls, const char *anchor,
		    const char *s, size_t max)
{
	int ret;

	if ((ret = strbuf_puts(sb, "<text")) || (ret = put_attr(sb, "x", x)) ||
	    (ret = put_attr(sb, "y", y)) ||
	    (ret = strbuf_printf(sb, " class=\"%s\" text-anchor=\"%s\">", cls, anchor)) ||
	    (ret = esc_n(sb, s, max)))
		return ret;
	return strbuf_puts(sb, "</text>");
}

/* A <line> of class cls. */
static int put_line(strbuf *sb, const char *cls, double x1, double y1, double x2, double y2)
{
	int ret;

	if ((ret = strbuf_printf(sb, "<line class=\"%s\"", cls)) || (ret = put_attr(sb, "x1", x1)) ||
	    (ret = put_attr(sb, "y1", y1)) || (ret = put_attr(sb, "x2", x2)) ||
	    (ret = put_attr(sb, "y2", y2)))
		return ret;
	return strbuf_puts(sb, "/>");
}

/* A <rect> of class cls. */
static int put_rect(strbuf *sb, const char *cls, double x, double y, double w, double h)
{
	int ret;

	if ((ret = strbuf_printf(sb, "<rect class=\"%s\"", cls)) || (ret = put_attr(sb, "x", x)) ||
	    (ret = put_attr(sb, "y", y)) || (ret = put_attr(sb, "width", w)) ||
	    (ret = put_attr(sb, "height", h)))
		return ret;
	return strbuf_puts(sb, "/>");
}

/* The largest finite value of a[0..n) and m (the floor of the scale). */
static double max_finite(const double *a, size_t n, double m)
{
	size_t i;

	for (i = 0; a && i < n; i++)
		if (isfinite(a[i]) && a[i] > m)
			m = a[i];
	return m;
}

/* A share for drawing: NaN, negatives and infinities draw nothing. */
static double share_of(const double *a, size_t i)
{
	return a && isfinite(a[i]) && a[i] > 0 ? a[i] : 0;
}

/* "ks 0.4213 (p 0.0012), threshold 0.05" — the statistic line of a chart's title. */
static int put_stat_line(strbuf *sb, const mlctl_monitor_feature *f)
{
	char a[48], b[48], c[48];
	int ret;

	if ((ret = esc(sb, f->test ? f->test : "?")) ||
	    (ret = strbuf_printf(sb, " %s", fmt_num(a, "%.4g", f->statistic))))
		return ret;
	if (!isnan(f->pvalue) && (ret = strbuf_printf(sb, " (p %s)", fmt_num(b, "%.3g", f->pvalue))))
		return ret;
	return strbuf_printf(sb, ", threshold %s%s", fmt_num(c, "%.4g", f->threshold),
			     f->drifted ? " \xE2\x80\x94 DRIFT" : "");
}

/* The y axis of a chart from 0 to top: three ticks with grid lines. pct: labels in %. */
static int put_y_axis(strbuf *sb, double left, double right, double top_y, double bottom_y,
		      double top, bool pct)
{
	char buf[48];
	int ret, k;

	for (k = 0; k <= 2; k++) {
		double v = top * k / 2, y = bottom_y - (bottom_y - top_y) * k / 2;
		const char *s = pct ? fmt_pct(buf, v) : fmt_num(buf, "%.3g", v);

		if ((k && (ret = put_line(sb, "grid", left, y, right, y))) ||
		    (ret = put_text(sb, left - 4, y + 3, "tick", "end", s, 0)))
			return ret;
	}
	if ((ret = put_line(sb, "axis", left, top_y, left, bottom_y)))
		return ret;
	return put_line(sb, "axis", left, bottom_y, right, bottom_y);
}

/* The legend of the two sides, top right of a chart. */
static int put_legend(strbuf *sb, double right, double y, const char *a, const char *b)
{
	int ret;

	if ((ret = put_rect(sb, "ref", right - 170, y - 9, 10, 10)) ||
	    (ret = put_text(sb, right - 156, y, "tick", "start", a, 0)) ||
	    (ret = put_rect(sb, "cur", right - 85, y - 9, 10, 10)))
		return ret;
	return put_text(sb, right - 71, y, "tick", "start", b, 0);
}

/* One bar pair's tooltip and bars: the reference bar the bin's full width, the current bar
 * narrower on top of it, so that both show wherever either is taller. */
static int put_bin(strbuf *sb, const mlctl_monitor_feature *f, size_t i, double x, double bw,
		   double base, double scale)
{
	double r = share_of(f->ref_share, i), c = share_of(f->cur_share, i);
	const char *label = f->bin_labels ? f->bin_labels[i] : NULL;
	char a[48], b[48];
	int ret;

	if ((ret = strbuf_puts(sb, "<g><title>")) || (ret = esc(sb, label)) ||
	    (ret = strbuf_printf(sb, ": reference %s", fmt_pct(a, f->ref_share ? f->ref_share[i] : NAN))) ||
	    (ret = strbuf_printf(sb, ", current %s</title>", fmt_pct(b, f->cur_share ? f->cur_share[i] : NAN))))
		return ret;
	if (r > 0 && (ret = put_rect(sb, "ref", x + bw * 0.08, base - r * scale, bw * 0.84, r * scale)))
		return ret;
	if (c > 0 && (ret = put_rect(sb, "cur", x + bw * 0.3, base - c * scale, bw * 0.4, c * scale)))
		return ret;
	if ((ret = strbuf_puts(sb, "</g>")))
		return ret;
	/* The label under the bar, turned so that 20 bins' labels fit. */
	if ((ret = strbuf_puts(sb, "<text class=\"tick\" text-anchor=\"end\" transform=\"translate(")) ||
	    (ret = put_coord(sb, x + bw / 2 + 3)) || (ret = strbuf_puts(sb, " ")) ||
	    (ret = put_coord(sb, base + 10)) || (ret = strbuf_puts(sb, ") rotate(-40)\">")) ||
	    (ret = esc_n(sb, label, LABEL_CHARS)))
		return ret;
	return strbuf_puts(sb, "</text>");
}

/* The histogram chart of one feature (or the predictions): reference and current shares
 * over the same bins, both colours, a legend, axes and the statistic in the title. */
static int put_histogram(strbuf *sb, const mlctl_monitor_feature *f, const char *what)
{
	double pw = H_W - H_LEFT - H_RIGHT, ph = H_H - H_TOP - H_BOTTOM, base = H_TOP + ph;
	double top = max_finite(f->cur_share, f->nbins, max_finite(f->ref_share, f->nbins, 0));
	double bw, scale;
	size_t i;
	int ret;

	top = top > 0 ? top * 1.08 : 1;
	scale = ph / top;
	bw = f->nbins ? pw / (double)f->nbins : pw;
	if ((ret = strbuf_printf(sb, "<div class=\"chart%s\"><svg width=\"%d\" height=\"%d\" "
				 "viewBox=\"0 0 %d %d\" role=\"img\"><title>",
				 f->drifted ? " drift" : "", H_W, H_H, H_W, H_H)) ||
	    (ret = esc(sb, what)) || (ret = strbuf_puts(sb, " ")) || (ret = esc(sb, f->name)) ||
	    (ret = strbuf_puts(sb, ": ")) || (ret = put_stat_line(sb, f)) ||
	    (ret = strbuf_puts(sb, "</title><text x=\"8\" y=\"16\" class=\"ttl\">")) ||
	    (ret = esc_n(sb, f->name, 28)) ||
	    (ret = strbuf_puts(sb, "</text><text x=\"8\" y=\"31\" class=\"sub\">")) ||
	    (ret = put_stat_line(sb, f)) || (ret = strbuf_puts(sb, "</text>")) ||
	    (ret = put_legend(sb, H_W - H_RIGHT, 15, "reference", "current")) ||
	    (ret = put_y_axis(sb, H_LEFT, H_W - H_RIGHT, H_TOP, base, top, true)))
		return ret;
	for (i = 0; i < f->nbins; i++)
		if ((ret = put_bin(sb, f, i, H_LEFT + bw * (double)i, bw, base, scale)))
			return ret;
	if (!f->nbins && (ret = put_text(sb, H_LEFT + pw / 2, H_TOP + ph / 2, "sub", "middle",
					 "no histogram in the reference profile", 0)))
		return ret;
	if ((ret = strbuf_printf(sb, "<text class=\"tick\" text-anchor=\"middle\" "
				 "transform=\"translate(11 %d) rotate(-90)\">share</text>", H_TOP + (H_H - H_TOP - H_BOTTOM) / 2)) ||
	    (ret = put_text(sb, H_LEFT + pw / 2, H_H - 4, "tick", "middle",
			    f->categorical ? "category" : "bin", 0)))
		return ret;
	return strbuf_puts(sb, "</svg></div>\n");
}

/* The statistic of feature i (or the predictions, i == nfeatures) at trend point k: the
 * past runs, then the current run as the last point. */
static double trend_value(const mlctl_monitor_result *r, size_t i, size_t k)
{
	const mlctl_monitor_feature *f = i < r->nfeatures ? &r->features[i] : &r->prediction;

	if (k == r->nhistory)
		return f->statistic;
	if (i == r->nfeatures)
		return r->history[k].prediction;
	return r->history[k].statistic ? r->history[k].statistic[i] : NAN;
}

static bool trend_flag(const mlctl_monitor_result *r, size_t k)
{
	return k == r->nhistory ? r->dataset_drift : r->history[k].dataset_drift;
}

/* The line of a trend: one polyline per run of finite points (a NaN breaks it), a dot at
 * each point, the current one in the current colour. */
static int put_trend_line(strbuf *sb, const mlctl_monitor_result *r, size_t i, double step,
			  double base, double scale)
{
	size_t k, n = r->nhistory + 1;
	bool open = false;
	int ret = 0;

	for (k = 0; k < n && !ret; k++) {
		double v = trend_value(r, i, k);

		if (!isfinite(v)) {
			if (open)
				ret = strbuf_puts(sb, "\"/>");
			open = false;
			continue;
		}
		if ((ret = strbuf_puts(sb, open ? " " : "<polyline class=\"line\" points=\"")) ||
		    (ret = put_coord(sb, T_LEFT + step * ((double)k + 0.5))) ||
		    (ret = strbuf_puts(sb, ",")) || (ret = put_coord(sb, base - v * scale)))
			break;
		open = true;
	}
	if (!ret && open)
		ret = strbuf_puts(sb, "\"/>");
	for (k = 0; k < n && !ret; k++) {
		double v = trend_value(r, i, k);

		if (!isfinite(v))
			continue;
		if ((ret = strbuf_printf(sb, "<circle class=\"pt%s\" r=\"2.5\"", k == n - 1 ? " now" : "")) ||
		    (ret = put_attr(sb, "cx", T_LEFT + step * ((double)k + 0.5))) ||
		    (ret = put_attr(sb, "cy", base - v * scale)))
			break;
		ret = strbuf_puts(sb, "/>");
	}
	return ret;
}

/* The x axis of a trend: the first past run's date, and "now". */
static int put_trend_x(strbuf *sb, const mlctl_monitor_result *r, double base)
{
	char t[32];
	int ret;

	mlctl_fmt_time(t, r->history[0].time_ms);
	t[10] = '\0';
	if ((ret = put_text(sb, T_LEFT, base + 13, "tick", "start", t, 0)) ||
	    (ret = put_text(sb, T_W - T_RIGHT, base + 13, "tick", "end", "now", 0)))
		return ret;
	return put_text(sb, T_LEFT + (T_W - T_LEFT - T_RIGHT) / 2.0, T_H - 4, "tick", "middle",
			"monitor run (oldest first); red marks: dataset drift", 0);
}

/* The trend chart of feature i (i == nfeatures: the predictions): its statistic over the
 * past runs and now, the threshold dashed, and a red mark under each run with dataset drift. */
static int put_trend(strbuf *sb, const mlctl_monitor_result *r, size_t i)
{
	const mlctl_monitor_feature *f = i < r->nfeatures ? &r->features[i] : &r->prediction;
	double pw = T_W - T_LEFT - T_RIGHT, ph = T_H - T_TOP - T_BOTTOM, base = T_TOP + ph;
	size_t k, n = r->nhistory + 1;
	double top = isfinite(f->threshold) && f->threshold > 0 ? f->threshold : 0;
	double step = pw / (double)n, scale;
	char a[48];
	int ret;

	for (k = 0; k < n; k++) {
		double v = trend_value(r, i, k);

		if (isfinite(v) && v > top)
			top = v;
	}
	top = top > 0 ? top * 1.1 : 1;
	scale = ph / top;
	if ((ret = strbuf_printf(sb, "<div class=\"chart\"><svg width=\"%d\" height=\"%d\" "
				 "viewBox=\"0 0 %d %d\" role=\"img\"><title>Trend of ", T_W, T_H, T_W, T_H)) ||
	    (ret = esc(sb, f->name)) ||
	    (ret = strbuf_printf(sb, " over %zu past runs and now</title><text x=\"8\" y=\"16\" "
				 "class=\"ttl\">", r->nhistory)) ||
	    (ret = esc_n(sb, f->name, 48)) ||
	    (ret = strbuf_puts(sb, "</text><text x=\"8\" y=\"31\" class=\"sub\">")) ||
	    (ret = esc(sb, f->test ? f->test : "?")) ||
	    (ret = strbuf_printf(sb, " statistic; threshold %s (dashed)</text>",
				 fmt_num(a, "%.4g", f->threshold))) ||
	    (ret = put_y_axis(sb, T_LEFT, T_W - T_RIGHT, T_TOP, base, top, false)) ||
	    (ret = strbuf_printf(sb, "<text class=\"tick\" text-anchor=\"middle\" transform=\"translate(11 %d) "
				 "rotate(-90)\">statistic</text>", T_TOP + (T_H - T_TOP - T_BOTTOM) / 2)))
		return ret;
	if (isfinite(f->threshold) && f->threshold >= 0 &&
	    (ret = put_line(sb, "thr", T_LEFT, base - f->threshold * scale, T_W - T_RIGHT,
			    base - f->threshold * scale)))
		return ret;
	for (k = 0; k < n; k++)
		if (trend_flag(r, k) && (ret = put_rect(sb, "flag", T_LEFT + step * (double)k + step * 0.2,
							 base - 5, step * 0.6, 5)))
			return ret;
	if ((ret = put_trend_line(sb, r, i, step, base, scale)) || (ret = put_trend_x(sb, r, base)))
		return ret;
	return strbuf_puts(sb, "</svg></div>\n");
}

/* One row of the features table. */
static int put_feature_row(strbuf *sb, const mlctl_monitor_feature *f, bool pred)
{
	char a[48], b[48], c[48], d[48], e[48], g[48], h[48];
	int ret;

	if ((ret = strbuf_printf(sb, "<tr class=\"%s%s\"><td>", f->drifted ? "drift" : "ok",
				 pred ? " pred" : "")) ||
	    (ret = esc(sb, f->name)) ||
	    (ret = strbuf_printf(sb, "</td><td>%s</td><td>", pred ? "prediction" :
				 f->categorical ? "categorical" : "numeric")) ||
	    (ret = esc(sb, f->test ? f->test : "\xE2\x80\x94")) ||
	    (ret = strbuf_printf(sb, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
				 "<td class=\"num\">%s</td><td class=\"verdict-cell\">%s</td>",
				 fmt_num(a, "%.4g", f->statistic), fmt_num(b, "%.4g", f->threshold),
				 fmt_num(c, "%.3g", f->pvalue),
				 f->drifted ? "\xE2\x9A\xA0 DRIFT" : "ok")) ||
	    (ret = strbuf_printf(sb, "<td class=\"num\">%s%s</td><td class=\"num\">%s / %s</td>"
				 "<td class=\"num\">%s</td><td>",
				 fmt_num(d, "%.4g", f->psi), f->psi_alert ? " \xE2\x9A\xA0 alert" : "",
				 fmt_pct(e, f->ref_missing), fmt_pct(g, f->cur_missing),
				 fmt_pct(h, f->unseen))) ||
	    (ret = esc(sb, f->note)))
		return ret;
	return strbuf_puts(sb, "</td></tr>\n");
}

static int put_table(strbuf *sb, const mlctl_monitor_result *r)
{
	size_t i;
	int ret;

	if ((ret = strbuf_puts(sb, "<h2>Features</h2>\n<table class=\"features\"><thead><tr>"
			       "<th>feature</th><th>type</th><th>test</th><th>statistic</th>"
			       "<th>threshold</th><th>p-value</th><th>verdict</th><th>PSI</th>"
			       "<th>missing ref / cur</th><th>unseen</th><th>note</th></tr></thead>\n<tbody>\n")))
		return ret;
	for (i = 0; i < r->nfeatures; i++)
		if ((ret = put_feature_row(sb, &r->features[i], false)))
			return ret;
	if (r->has_prediction && (ret = put_feature_row(sb, &r->prediction, true)))
		return ret;
	return strbuf_puts(sb, "</tbody></table>\n");
}

/* A <tr><th>name</th><td>escaped value</td></tr> of the summary. */
static int put_summary_row(strbuf *sb, const char *name, const char *value)
{
	int ret;

	if ((ret = strbuf_printf(sb, "<tr><th>%s</th><td>", name)) || (ret = esc(sb, value)))
		return ret;
	return strbuf_puts(sb, "</td></tr>\n");
}

static int put_performance(strbuf *sb, const mlctl_monitor_result *r)
{
	char a[48], b[48], c[48], d[48];
	int ret;

	if ((ret = strbuf_puts(sb, "<tr><th>performance</th><td>")) || (ret = esc(sb, r->metric)))
		return ret;
	return strbuf_printf(sb, ": baseline %s, current %s, drop %s (max drop %s) \xE2\x80\x94 %s</td></tr>\n",
			     fmt_num(a, "%.4g", r->baseline), fmt_num(b, "%.4g", r->current),
			     fmt_num(c, "%.4g", r->drop), fmt_num(d, "%.4g", r->max_drop),
			     r->performance_alert ? "\xE2\x9A\xA0 ALERT" : "ok");
}

/* The head of the page: the title, the verdict and the summary table. */
static int put_summary(strbuf *sb, const mlctl_monitor_result *r)
{
	double share = r->nfeatures ? (double)r->ndrifted / (double)r->nfeatures : 0;
	char a[48], b[48], c[48];
	int ret;

	if ((ret = strbuf_puts(sb, "<h1>mlctl monitor: ")) || (ret = esc(sb, r->model)) ||
	    (ret = strbuf_printf(sb, "</h1>\n<p class=\"verdict %s\">", r->alert ? "alert" : "ok")))
		return ret;
	if (r->alert) {
		if ((ret = strbuf_puts(sb, "\xE2\x9A\xA0 ALERT: ")) ||
		    (ret = esc(sb, r->why ? r->why : "see below")))
			return ret;
	} else if ((ret = strbuf_puts(sb, "\xE2\x9C\x93 No alert: no drift or performance drop beyond "
				      "the thresholds"))) {
		return ret;
	}
	if ((ret = strbuf_puts(sb, "</p>\n<table class=\"summary\">\n")) ||
	    (ret = put_summary_row(sb, "model", r->model)) ||
	    (ret = put_summary_row(sb, "current data", r->source)) ||
	    (r->run[0] && (ret = put_summary_row(sb, "monitor run", r->run))) ||
	    (ret = strbuf_printf(sb, "<tr><th>rows</th><td>reference %zu, current %zu</td></tr>\n",
				 r->ref_rows, r->cur_rows)) ||
	    (ret = strbuf_printf(sb, "<tr><th>dataset drift</th><td>%s: %zu of %zu features drifted "
				 "(share %s, dataset drift at %s)</td></tr>\n",
				 r->dataset_drift ? "\xE2\x9A\xA0 YES" : "no", r->ndrifted, r->nfeatures,
				 fmt_num(a, "%.3g", share), fmt_num(b, "%.3g", r->drift_share))))
		return ret;
	if (r->has_prediction &&
	    ((ret = strbuf_printf(sb, "<tr><th>prediction drift</th><td>%s: ",
				  r->prediction.drifted ? "\xE2\x9A\xA0 YES" : "no")) ||
	     (ret = esc(sb, r->prediction.test ? r->prediction.test : "?")) ||
	     (ret = strbuf_printf(sb, " %s, threshold %s%s",
				  fmt_num(a, "%.4g", r->prediction.statistic),
				  fmt_num(c, "%.4g", r->prediction.threshold),
				  r->pred_sampled ? "; " : "</td></tr>\n")) ||
	     (r->pred_sampled &&
	      (ret = strbuf_printf(sb, "predictions from %zu of %zu rows (seeded sample)</td></tr>\n",
				   r->pred_rows, r->cur_rows)))))
		return ret;
	if (r->has_performance && (ret = put_performance(sb, r)))
		return ret;
	if (r->missing_stats &&
	    (ret = strbuf_printf(sb, "<tr><th>older profile</th><td>%zu statistics could not be computed "
				 "from the reference profile (shown as \xE2\x80\x94)</td></tr>\n",
				 r->missing_stats)))
		return ret;
	return strbuf_puts(sb, "</table>\n");
}

static int put_charts(strbuf *sb, const mlctl_monitor_result *r)
{
	size_t i;
	int ret;

	if ((ret = strbuf_puts(sb, "<h2>Distributions: reference and current</h2>\n<div class=\"charts\">\n")))
		return ret;
	for (i = 0; i < r->nfeatures; i++)
		if ((ret = put_histogram(sb, &r->features[i], "Feature")))
			return ret;
	if (r->has_prediction && (ret = put_histogram(sb, &r->prediction, "Predictions:")))
		return ret;
	if ((ret = strbuf_puts(sb, "</div>\n")))
		return ret;
	if (!r->nhistory || !r->history)
		return strbuf_puts(sb, "<h2>Trend</h2>\n<p class=\"note\">No earlier monitor run of this model.</p>\n");
	if ((ret = strbuf_printf(sb, "<h2>Trend over %zu earlier monitor runs</h2>\n<div class=\"charts\">\n",
				 r->nhistory)))
		return ret;
	for (i = 0; i < r->nfeatures + (r->has_prediction ? 1 : 0); i++)
		if ((ret = put_trend(sb, r, i)))
			return ret;
	return strbuf_puts(sb, "</div>\n");
}

static int render(strbuf *sb, const mlctl_monitor_result *r)
{
	int ret;

	if ((ret = strbuf_puts(sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
			       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
			       "<title>mlctl monitor: ")) ||
	    (ret = esc(sb, r->model)) ||
	    (ret = strbuf_printf(sb, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", style_css)) ||
	    (ret = put_summary(sb, r)) || (ret = put_table(sb, r)) || (ret = put_charts(sb, r)))
		return ret;
	return strbuf_puts(sb, "<p class=\"note\">Drawn by mlctl from the reference profile's bins and the "
			   "current data's counts; no row of data is in this page.</p>\n</body>\n</html>\n");
}

int mlctl_monitor_report(const mlctl_monitor_result *r, const char *path)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	int ret;

	if (!r || !path || !*path)
		return mlctl_error_set(MLCTL_EUSAGE, "monitor report: no result or no path");
	if ((ret = render(&sb, r)))
		goto out;
	ret = fs_write_atomic(path, sb.buf, sb.len, 0644);
out:
	strbuf_release(&sb);
	return ret;
}
