/* microbeat — main: set up, run the command, map the result to an exit status. */
#include "microbeat/cli.h"

int main(int argc, char **argv)
{
	return mb_exit_code(cli_run(argc, argv));
}
