/* Unit tests for json.c: escaping, invalid UTF-8, lists, null. */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#include "buf.h"
#include "json.h"

static void
test_strings(void **state)
{
	static const struct { const char *in, *out; } t[] = {
		{ "", "\"\"" },
		{ "plain", "\"plain\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "line\r\nnext\ttab", "\"line\\r\\nnext\\ttab\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
		{ "caf\xc3\xa9 \xe2\x9c\x93", "\"caf\xc3\xa9 \xe2\x9c\x93\"" },
		{ "bad \xff byte", "\"bad \\ufffd byte\"" },
		{ "cut \xc3", "\"cut \\ufffd\"" },
		{ "overlong \xc0\xaf", "\"overlong \\ufffd\\ufffd\"" },
		{ "surrogate \xed\xa0\x80", "\"surrogate \\ufffd\\ufffd\\ufffd\"" },
	};
	struct buf	b;
	size_t		i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		buf_init(&b, 0);
		json_string(&b, t[i].in);
		assert_string_equal(buf_str(&b), t[i].out);
		buf_free(&b);
	}
}

static void
test_null_and_lists(void **state)
{
	struct buf	b;

	buf_init(&b, 0);
	json_string_or_null(&b, NULL);
	buf_addch(&b, ' ');
	json_string_or_null(&b, "x");
	buf_addch(&b, ' ');
	json_csv_array(&b, NULL);
	json_csv_array(&b, "");
	json_csv_array(&b, "alcohol");
	json_csv_array(&b, "alcohol,,codependency,");
	assert_string_equal(buf_str(&b), "null \"x\" [][][\"alcohol\"]"
	    "[\"alcohol\",\"codependency\"]");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_null_and_lists),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
