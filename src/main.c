/* microbeat — main: set up, run the command, map the result to an exit status. */
#include <gsl/gsl_errno.h>

#include "microbeat/cli.h"

int main(int argc, char **argv)
{
	/* GSL's default handler aborts the process; the modules check results */
	gsl_set_error_handler_off();
	return mb_exit_code(cli_run(argc, argv));
}
