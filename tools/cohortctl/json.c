// SPDX-License-Identifier: GPL-2.0
/*
 * cohortctl: a minimal streaming JSON writer.
 *
 * Values are written to stdout as they come. Keys are given for members of
 * objects and NULL for array elements and the top-level value; a line ends
 * when the top-level object or array closes. With -p the output is indented.
 */
#include <stdio.h>
#include <string.h>

#include "cohortctl.h"

#define JSON_MAX_DEPTH	16

static int depth;
static bool first[JSON_MAX_DEPTH + 1];

static void indent(void)
{
	int i;

	putchar('\n');
	for (i = 0; i < depth; i++)
		fputs("    ", stdout);
}

static void put_bytes(const unsigned char *s, size_t len)
{
	size_t i;

	putchar('"');
	for (i = 0; i < len; i++) {
		unsigned char ch = s[i];

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", stdout);
		else if (ch == '\t')
			fputs("\\t", stdout);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void put_string(const char *s)
{
	put_bytes((const unsigned char *)s, strlen(s));
}

/* Separator, indentation and key before a value. */
static void begin_value(const char *key)
{
	if (depth > 0) {
		if (!first[depth])
			putchar(',');
		first[depth] = false;
		if (pretty_out)
			indent();
	}
	if (key) {
		put_string(key);
		fputs(pretty_out ? ": " : ":", stdout);
	}
}

static void open_container(const char *key, char ch)
{
	begin_value(key);
	putchar(ch);
	if (depth < JSON_MAX_DEPTH)
		depth++;
	first[depth] = true;
}

static void close_container(char ch)
{
	bool empty = first[depth];

	if (depth > 0)
		depth--;
	if (pretty_out && !empty)
		indent();
	putchar(ch);
	if (depth == 0) {
		putchar('\n');
		fflush(stdout);
	}
}

void json_obj_open(const char *key)
{
	open_container(key, '{');
}

void json_obj_close(void)
{
	close_container('}');
}

void json_arr_open(const char *key)
{
	open_container(key, '[');
}

void json_arr_close(void)
{
	close_container(']');
}

void json_u64(const char *key, uint64_t v)
{
	begin_value(key);
	printf("%llu", (unsigned long long)v);
}

void json_str(const char *key, const char *s)
{
	begin_value(key);
	put_string(s);
}

void json_null(const char *key)
{
	begin_value(key);
	fputs("null", stdout);
}

void json_bool(const char *key, bool v)
{
	begin_value(key);
	fputs(v ? "true" : "false", stdout);
}

/* Milliseconds and percentages: three decimals are plenty. */
void json_double(const char *key, double v)
{
	begin_value(key);
	printf("%.3f", v);
}

/* The same quoting without a key or separator, for text output. */
void json_quote(const void *buf, size_t len)
{
	put_bytes(buf, len);
}

/* Bytes as a string; bytes outside printable ASCII become \u00XX. */
void json_bytes(const char *key, const void *buf, size_t len)
{
	begin_value(key);
	put_bytes(buf, len);
}
