/* ingest_agency — other agencies' CSVs through a column map (placeholder until the map lands). */
#include "ingest_internal.h"

int ingest_agency_open(struct ingest_run *run, struct mb_error *err)
{
	if (run->o->map_path)
		return mb_err(err, MB_EUSAGE, "--map is not supported yet");
	return 0;
}

void ingest_agency_close(struct ingest_run *run)
{
	(void)run;
}

int ingest_agency_header(struct ingest_run *run, struct pfile *f, int nf)
{
	(void)run;
	(void)f;
	(void)nf;
	return 0;
}

int ingest_agency_nfields(const struct ingest_run *run)
{
	(void)run;
	return 0;
}

void ingest_agency_row(struct ingest_run *run, struct pfile *f)
{
	(void)run;
	(void)f;
}
