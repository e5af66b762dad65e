/* test_assess — the pack's own wording rules (src/assess_report.c): a verdict
 * beside counts below min_count_for_percent loses its percentages, not what
 * it tested (docs/methods.md §6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "assess_internal.h"

static const char *const LONG_RUN =
	"Rising over the period: +25% year on year (95% CI -10% to +70%), not significant (p = 0.21);"
	" quasi-Poisson rate ratio, phi = 1.20; Poisson exact test (secondary, unadjusted): p = 0.18,"
	" 95% CI -9% to +68%; the total, tested alone; long-run trend +12% a year over 36 months"
	" (95% CI +3% to +22%), significant (p = 0.01); a note";

static void test_verdict_clause(void **state)
{
	struct assess_config cfg = { .min_count_pct = 20 };
	struct run R = { .cfg = &cfg };
	char out[400];

	(void)state;
	/* both counts at the minimum: the first clause whole */
	as_verdict_clause(&R, LONG_RUN, "20", "20", out, sizeof out);
	assert_string_equal(out, "Rising over the period: +25% year on year (95% CI -10% to +70%),"
				 " not significant (p = 0.21)");
	/* one below: the headline and the test, said of the year on year */
	as_verdict_clause(&R, LONG_RUN, "19", "25", out, sizeof out);
	assert_string_equal(out, "Rising over the period: the year-on-year change is not"
				 " significant (p = 0.21)");
	assert_null(strchr(out, '%'));
	/* adjusted p kept as printed */
	as_verdict_clause(&R, "Within normal variation: -25% year on year (FCR-adjusted 99.3% CI"
			  " -83% to +223%), not significant (adjusted p = 0.89); one of 7 types",
			  "9", "12", out, sizeof out);
	assert_string_equal(out, "Within normal variation: the year-on-year change is not"
				 " significant (adjusted p = 0.89)");
	/* clauses of another shape, as they are */
	as_verdict_clause(&R, "Too few crimes to judge year on year: 3 against 5 the year before"
			  " (fewer than 10 in the two years)", "3", "5", out, sizeof out);
	assert_string_equal(out, "Too few crimes to judge year on year: 3 against 5 the year before"
				 " (fewer than 10 in the two years)");
	as_verdict_clause(&R, "Rising: 12 against 0 the year before (95% CI of the rate ratio 3.1"
			  " to 420, 0.5 added to each count), significant (p < 0.001)", "12", "0",
			  out, sizeof out);
	assert_string_equal(out, "Rising: 12 against 0 the year before (95% CI of the rate ratio 3.1"
				 " to 420, 0.5 added to each count), significant (p < 0.001)");
	/* a counts cell that is no number: left whole */
	as_verdict_clause(&R, LONG_RUN, "", "25", out, sizeof out);
	assert_non_null(strstr(out, "+25% year on year"));
	/* a buffer too small: cut, terminated */
	as_verdict_clause(&R, LONG_RUN, "19", "25", out, 40);
	assert_int_equal(strlen(out), 39);
}

static void test_long_run_test(void **state)
{
	char out[200];

	(void)state;
	as_long_run_test(LONG_RUN, out, sizeof out);
	assert_string_equal(out, "; the long-run trend is significant (p = 0.01)");
	as_long_run_test("Rising: +9% year on year (95% CI +6% to +12%), significant (p < 0.001)",
			 out, sizeof out);
	assert_string_equal(out, "");
	/* the last clause */
	as_long_run_test("Rising over the period: x; long-run trend -3% a year over 30 months"
			 " (95% CI -5% to -1%), significant (adjusted p = 0.02)", out, sizeof out);
	assert_string_equal(out, "; the long-run trend is significant (adjusted p = 0.02)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict_clause),
		cmocka_unit_test(test_long_run_test),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
