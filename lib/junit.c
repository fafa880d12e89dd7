/*
 * junit.c — the JUnit XML report writer (floor 3). The strings in a report come from data
 * (class names, file names, messages quoting values), so everything is escaped and the
 * characters XML 1.0 cannot hold at all are dropped or replaced: a CI server must always
 * be able to parse what validate leaves behind.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "fsutil.h"
#include "junit.h"
#include "util.h"
#include "banned.h"

/* Append s escaped for XML text (attr false) or a double-quoted attribute value. */
static int xml_escape(strbuf *sb, const char *str, bool attr)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	unsigned long cp;
	size_t len;
	int ret = 0;

	while (*s && !ret) {
		len = mlctl_utf8_decode(s, &cp);
		if (len == 0) {
			ret = strbuf_puts(sb, "\xEF\xBF\xBD");   /* U+FFFD for a bad byte */
			s++;
			continue;
		}
		switch (cp) {
		case '&': ret = strbuf_puts(sb, "&amp;"); break;
		case '<': ret = strbuf_puts(sb, "&lt;"); break;
		case '>': ret = strbuf_puts(sb, "&gt;"); break;
		case '"': ret = strbuf_puts(sb, "&quot;"); break;
		case '\'': ret = strbuf_puts(sb, "&apos;"); break;
		/* Attribute values are normalised by parsers: keep tabs and newlines as
		 * references there, and \r everywhere (line ends are normalised too). */
		case '\t': ret = strbuf_puts(sb, attr ? "&#9;" : "\t"); break;
		case '\n': ret = strbuf_puts(sb, attr ? "&#10;" : "\n"); break;
		case '\r': ret = strbuf_puts(sb, "&#13;"); break;
		default:
			/* Not XML 1.0 characters: other C0 controls, U+FFFE, U+FFFF. */
			if (cp >= 0x20 && cp != 0xFFFE && cp != 0xFFFF)
				ret = strbuf_add(sb, s, len);
			break;
		}
		s += len;
	}
	return ret;
}

/* Seconds with three decimals, without the locale's decimal point. */
static int put_seconds(strbuf *sb, double seconds)
{
	long long ms = isfinite(seconds) && seconds > 0 && seconds < 1e15 ? llround(seconds * 1000) : 0;

	return strbuf_printf(sb, "%lld.%03lld", ms / 1000, ms % 1000);
}

static int render_case(strbuf *sb, const junit_case *c)
{
	int ret;

	if ((ret = strbuf_puts(sb, "    <testcase name=\"")) ||
	    (ret = xml_escape(sb, c->name, true)) ||
	    (ret = strbuf_puts(sb, "\" classname=\"")) ||
	    (ret = xml_escape(sb, c->classname, true)) ||
	    (ret = strbuf_puts(sb, "\" time=\"")) ||
	    (ret = put_seconds(sb, c->seconds)))
		return ret;
	if (!c->failed)
		return strbuf_puts(sb, "\"/>\n");
	if ((ret = strbuf_puts(sb, "\">\n      <failure message=\"")) ||
	    (ret = xml_escape(sb, c->message, true)) ||
	    (ret = strbuf_puts(sb, "\" type=\"")) ||
	    (ret = xml_escape(sb, c->type ? c->type : "failure", true)) ||
	    (ret = strbuf_puts(sb, "\">")) ||
	    (ret = xml_escape(sb, c->detail ? c->detail : c->message, false)) ||
	    (ret = strbuf_puts(sb, "</failure>\n    </testcase>\n")))
		return ret;
	return 0;
}

int junit_render(char **out, const char *suite_name, const junit_case *cases, size_t n,
		 double seconds, long long timestamp_ms)
{
	strbuf sb = MLCTL_STRBUF_INIT;
	size_t i, failures = 0;
	time_t t = (time_t)(timestamp_ms / 1000);
	struct tm tm;
	char stamp[32] = "1970-01-01T00:00:00";
	int ret;

	*out = NULL;
	for (i = 0; i < n; i++)
		failures += cases[i].failed;
	if (gmtime_r(&t, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if ((ret = strbuf_printf(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				 "<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"",
				 n, failures)) ||
	    (ret = put_seconds(&sb, seconds)) ||
	    (ret = strbuf_puts(&sb, "\">\n  <testsuite name=\"")) ||
	    (ret = xml_escape(&sb, suite_name, true)) ||
	    (ret = strbuf_printf(&sb, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"",
				 n, failures)) ||
	    (ret = put_seconds(&sb, seconds)) ||
	    (ret = strbuf_printf(&sb, "\" timestamp=\"%s\" hostname=\"", stamp)) ||
	    (ret = xml_escape(&sb, mlctl_hostname(), true)) ||
	    (ret = strbuf_puts(&sb, "\">\n")))
		goto out;
	for (i = 0; i < n; i++)
		if ((ret = render_case(&sb, &cases[i])))
			goto out;
	if ((ret = strbuf_puts(&sb, "  </testsuite>\n</testsuites>\n")))
		goto out;
	*out = strbuf_detach(&sb, NULL);
out:
	strbuf_release(&sb);
	return ret;
}

int junit_write(const char *path, const char *suite_name, const junit_case *cases, size_t n,
		double seconds)
{
	char *xml = NULL;
	int ret;

	if ((ret = junit_render(&xml, suite_name, cases, n, seconds, (long long)mlctl_now_ms())))
		return ret;
	ret = fs_write_atomic(path, xml, strlen(xml), 0644);
	free(xml);
	return ret;
}
