// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipd/bencode.c: every type, every error with its message and offset, the
 * depth, count and size bounds, unsorted and duplicate dictionary keys, the
 * lookup helpers, and the encoder (round trip, overflow).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sipd/bencode.h"

static struct sipd_benc b;

static const struct sipd_benc_node *dec(const char *s)
{
	return sipd_benc_decode(&b, s, strlen(s));
}

/* s fails to decode with exactly this message. */
static void refused(const char *s, const char *msg)
{
	if (dec(s)) {
		print_error("\"%s\" decoded\n", s);
		fail();
	}
	if (strcmp(b.err, msg)) {
		print_error("\"%s\": got \"%s\", want \"%s\"\n", s, b.err, msg);
		fail();
	}
}

static void test_integers(void **state)
{
	const struct sipd_benc_node *n;

	(void)state;
	n = dec("i0e");
	assert_non_null(n);
	assert_int_equal(n->type, SIPD_BENC_INT);
	assert_int_equal(n->i, 0);
	assert_int_equal(dec("i42e")->i, 42);
	assert_int_equal(dec("i-3e")->i, -3);
	assert_true(dec("i9223372036854775807e")->i == INT64_MAX);
	assert_true(dec("i-9223372036854775808e")->i == INT64_MIN);
	assert_int_equal(b.n, 1);
}

static void test_integer_errors(void **state)
{
	(void)state;
	refused("ie", "offset 0: integer without digits (got 'e')");
	refused("i-e", "offset 0: integer without digits (got 'e')");
	refused("i03e", "offset 0: integer with a leading zero");
	refused("i00e", "offset 0: integer with a leading zero");
	refused("i-0e", "offset 0: integer \"-0\"");
	refused("i-01e", "offset 0: integer \"-0\"");
	refused("i9223372036854775808e", "offset 0: integer out of the 64-bit range");
	refused("i-9223372036854775809e", "offset 0: integer out of the 64-bit range");
	refused("i99999999999999999999999e", "offset 0: integer out of the 64-bit range");
	refused("i12", "offset 0: integer runs past the end of the input");
	refused("i", "offset 0: integer runs past the end of the input");
	refused("i1x", "offset 2: integer not terminated by 'e' (got 'x')");
	refused("i+1e", "offset 0: integer without digits (got '+')");
	refused("li1ei2", "offset 4: integer runs past the end of the input");
}

static void test_strings(void **state)
{
	const struct sipd_benc_node *n;
	static const uint8_t bin[] = {'3', ':', 'a', 0, 0xff};
	size_t len;

	(void)state;
	n = dec("4:spam");
	assert_non_null(n);
	assert_int_equal(n->type, SIPD_BENC_STR);
	assert_int_equal(n->len, 4);
	assert_memory_equal(n->s, "spam", 4);
	assert_true(sipd_benc_str_eq(n, "spam"));
	assert_false(sipd_benc_str_eq(n, "spa"));
	assert_ptr_equal(sipd_benc_str(n, &len), n->s);
	assert_int_equal(len, 4);
	n = dec("0:");
	assert_non_null(n);
	assert_int_equal(n->len, 0);
	assert_true(sipd_benc_str_eq(n, ""));
	n = sipd_benc_decode(&b, bin, sizeof(bin));
	assert_non_null(n);
	assert_int_equal(n->len, 3);
	assert_int_equal(n->s[1], 0);
	assert_int_equal(n->s[2], 0xff);
	assert_null(sipd_benc_str(dec("i1e"), &len));
}

static void test_string_errors(void **state)
{
	(void)state;
	refused("5:spam", "offset 0: string length 5 past the end of the input (4 bytes left)");
	refused("d7:command4:ping3:sdp999:v=0e",
		"offset 21: string length 999 past the end of the input (4 bytes left)");
	refused("04:spam", "offset 0: string length with a leading zero");
	refused("00:", "offset 0: string length with a leading zero");
	refused("4spam", "offset 1: string length not followed by ':' (got 's')");
	refused("4", "offset 0: string length runs past the end of the input");
	refused("123456789012345678901234567890:x",
		"offset 0: string length of 30 digits past the end of the input");
	refused("18446744073709551617:x",
		"offset 0: string length 18446744073709551617 past the end of the input (1 "
		"bytes left)");
}

static void test_lists(void **state)
{
	const struct sipd_benc_node *n, *m;
	int i = 0;

	(void)state;
	n = dec("le");
	assert_non_null(n);
	assert_int_equal(n->type, SIPD_BENC_LIST);
	assert_int_equal(n->len, 0);
	assert_null(n->first);
	n = dec("li1e4:spamli2eee");
	assert_non_null(n);
	assert_int_equal(n->len, 3);
	SIPD_BENC_FOREACH(m, n)
	{
		assert_null(m->key);
		if (i == 0)
			assert_int_equal(m->i, 1);
		if (i == 1)
			assert_true(sipd_benc_str_eq(m, "spam"));
		if (i == 2) {
			assert_int_equal(m->type, SIPD_BENC_LIST);
			assert_int_equal(m->first->i, 2);
			assert_int_equal(m->off, 10);
		}
		i++;
	}
	assert_int_equal(i, 3);
	refused("l", "offset 0: list not terminated before the end of the input");
	refused("li1e", "offset 0: list not terminated before the end of the input");
	refused("lli1ee", "offset 0: list not terminated before the end of the input");
}

static void test_dicts(void **state)
{
	const struct sipd_benc_node *n;

	(void)state;
	n = dec("de");
	assert_non_null(n);
	assert_int_equal(n->type, SIPD_BENC_DICT);
	assert_int_equal(n->len, 0);
	n = dec("d3:bar4:spam3:fooi42ee");
	assert_non_null(n);
	assert_int_equal(n->len, 2);
	assert_true(sipd_benc_str_eq(sipd_benc_dict_get(n, "bar"), "spam"));
	assert_int_equal(sipd_benc_dict_get(n, "foo")->i, 42);
	assert_null(sipd_benc_dict_get(n, "fo"));
	assert_null(sipd_benc_dict_get(n, "baz"));
	assert_null(sipd_benc_dict_get(dec("le"), "x"));
	/* key bytes, not a C string */
	n = dec("d3:a\0bi1ee");
	assert_null(n); /* strlen stops at the NUL */
	n = sipd_benc_decode(&b, "d3:a\0bi1ee", 10);
	assert_non_null(n);
	assert_non_null(sipd_benc_dict_getn(n, "a\0b", 3));
	assert_null(sipd_benc_dict_getn(n, "a", 1));
}

/* Kamailio 5.6 and rtpengine send keys in whatever order they build them. */
static void test_unsorted_keys(void **state)
{
	const struct sipd_benc_node *n;

	(void)state;
	n = dec("d7:command5:offer7:call-id3:abc3:sdp3:v=08:from-tag1:ae");
	assert_non_null(n);
	assert_int_equal(n->len, 4);
	assert_true(sipd_benc_str_eq(sipd_benc_dict_get(n, "command"), "offer"));
	assert_true(sipd_benc_str_eq(sipd_benc_dict_get(n, "from-tag"), "a"));
	/* input order kept */
	assert_memory_equal(n->first->key, "command", 7);
	assert_memory_equal(n->first->next->next->key, "sdp", 3);
	assert_non_null(dec("d1:zi1e1:ai2e1:mi3ee"));
}

static void test_dict_errors(void **state)
{
	(void)state;
	refused("d3:fooi1e3:fooi2ee", "offset 9: duplicate dictionary key \"foo\"");
	refused("d1:ai1e1:bi1e1:ai1ee", "offset 13: duplicate dictionary key \"a\"");
	refused("di1ei2ee", "offset 1: dictionary key must be a byte string (got 'i')");
	refused("dle1:ae", "offset 1: dictionary key must be a byte string (got 'l')");
	refused("d3:foo", "offset 1: dictionary key without a value");
	refused("d3:fooe", "offset 6: unexpected byte 'e' (want a value: i, l, d or a digit)");
	refused("d3:fooi1e", "offset 0: dictionary not terminated before the end of the input");
	/* the same key in different dictionaries is fine */
	assert_non_null(dec("d1:ad1:ai1ee1:bd1:ai2eee"));
}

static void test_top_level_errors(void **state)
{
	(void)state;
	refused("", "offset 0: empty input");
	assert_null(sipd_benc_decode(&b, NULL, 0));
	refused("i1ei2e", "offset 3: 3 trailing bytes after the value");
	refused("de ", "offset 2: 1 trailing bytes after the value");
	refused("x", "offset 0: unexpected byte 'x' (want a value: i, l, d or a digit)");
	refused("\x01", "offset 0: unexpected byte \\x01 (want a value: i, l, d or a digit)");
	refused("l'e", "offset 1: unexpected byte \\x27 (want a value: i, l, d or a digit)");
	refused("-1:", "offset 0: unexpected byte '-' (want a value: i, l, d or a digit)");
	assert_int_equal(b.err_off, 0);
	refused("li1ex", "offset 4: unexpected byte 'x' (want a value: i, l, d or a digit)");
	assert_int_equal(b.err_off, 4);
}

static void test_depth(void **state)
{
	char s[64];
	unsigned int d;

	(void)state;
	for (d = 1; d <= SIPD_BENC_MAX_DEPTH + 1; d++) {
		memset(s, 'l', d);
		memset(s + d, 'e', d);
		s[2 * d] = '\0';
		if (d <= SIPD_BENC_MAX_DEPTH)
			assert_non_null(dec(s));
		else
			refused(s, "offset 16: nesting deeper than 16 levels");
	}
	/* dictionaries count as levels too */
	strcpy(s, "d1:a");
	for (d = 0; d < SIPD_BENC_MAX_DEPTH; d++)
		strcat(s, "l");
	strcat(s, "i1e");
	assert_null(dec(s));
	assert_string_equal(b.err, "offset 19: nesting deeper than 16 levels");
}

static void test_count(void **state)
{
	static char s[8192];
	size_t n = 0;

	(void)state;
	/* a list and 1023 integers: 1024 values */
	s[n++] = 'l';
	for (int i = 0; i < SIPD_BENC_MAX_NODES - 1; i++) {
		memcpy(s + n, "i7e", 3);
		n += 3;
	}
	s[n++] = 'e';
	assert_non_null(sipd_benc_decode(&b, s, n));
	assert_int_equal(b.n, SIPD_BENC_MAX_NODES);
	memmove(s + 4, s + 1, n - 1);
	memcpy(s + 1, "i7e", 3);
	n += 3;
	assert_null(sipd_benc_decode(&b, s, n));
	assert_string_equal(b.err, "offset 3070: more than 1024 values");
}

static void test_size(void **state)
{
	static char s[SIPD_BENC_MAX_INPUT + 2];
	size_t n;

	(void)state;
	/* a string filling the limit exactly */
	n = (size_t)snprintf(s, sizeof(s), "%d:", SIPD_BENC_MAX_INPUT - 6);
	memset(s + n, 'x', SIPD_BENC_MAX_INPUT - n);
	assert_non_null(sipd_benc_decode(&b, s, SIPD_BENC_MAX_INPUT));
	n = (size_t)snprintf(s, sizeof(s), "%d:", SIPD_BENC_MAX_INPUT - 5);
	memset(s + n, 'x', SIPD_BENC_MAX_INPUT + 1 - n);
	assert_null(sipd_benc_decode(&b, s, SIPD_BENC_MAX_INPUT + 1));
	assert_string_equal(b.err, "offset 0: input of 65536 bytes, more than 65535");
}

static void test_garbage(void **state)
{
	static uint8_t s[4096];
	unsigned int seed = 7;

	(void)state;
	/* never crashes, and a failure always says where */
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(rand_r(&seed) % sizeof(s));

		for (size_t i = 0; i < n; i++)
			s[i] = (uint8_t) "ild0123456789e:-x"[rand_r(&seed) % 17];
		if (!sipd_benc_decode(&b, s, n))
			assert_int_equal(strncmp(b.err, "offset ", 7), 0);
	}
}

static void test_encoder(void **state)
{
	uint8_t buf[256];
	struct sipd_benc_out o;
	const struct sipd_benc_node *n;

	(void)state;
	sipd_benc_out_init(&o, buf, sizeof(buf));
	sipd_benc_put_dict(&o);
	sipd_benc_put_cstr(&o, "int");
	sipd_benc_put_int(&o, -42);
	sipd_benc_put_cstr(&o, "list");
	sipd_benc_put_list(&o);
	sipd_benc_put_cstr(&o, "a");
	sipd_benc_put_str(&o, "\0b", 2);
	sipd_benc_put_int(&o, INT64_MIN);
	sipd_benc_put_end(&o);
	sipd_benc_put_cstr(&o, "str");
	sipd_benc_put_cstr(&o, "");
	sipd_benc_put_end(&o);
	assert_false(o.overflow);
	assert_int_equal(o.len, 56);
	assert_memory_equal(buf, "d3:inti-42e4:listl1:a2:\0bi-9223372036854775808ee3:str0:e", 56);
	n = sipd_benc_decode(&b, buf, o.len);
	assert_non_null(n);
	assert_int_equal(sipd_benc_dict_get(n, "int")->i, -42);
	assert_int_equal(sipd_benc_dict_get(n, "list")->len, 3);
	assert_true(sipd_benc_dict_get(n, "list")->first->next->next->i == INT64_MIN);

	/* overflow: nothing past the capacity, flagged */
	memset(buf, '#', sizeof(buf));
	sipd_benc_out_init(&o, buf, 5);
	sipd_benc_put_cstr(&o, "ab");
	assert_false(o.overflow);
	sipd_benc_put_cstr(&o, "cd");
	assert_true(o.overflow);
	assert_int_equal(o.len, 4);
	sipd_benc_put_end(&o);
	assert_int_equal(o.len, 4);
	assert_int_equal(buf[5], '#');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_integer_errors),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_string_errors),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_dicts),
		cmocka_unit_test(test_unsorted_keys),
		cmocka_unit_test(test_dict_errors),
		cmocka_unit_test(test_top_level_errors),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_encoder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
