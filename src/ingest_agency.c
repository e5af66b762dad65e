/* ingest_agency — other agencies' CSVs: load the column map and what it needs. */
#include <stdlib.h>

#include "ingest_internal.h"
#include "microbeat/agencymap.h"
#include "microbeat/dict.h"
#include "microbeat/geo.h"

int ingest_agency_open(struct ingest_run *run, struct mb_error *err)
{
	struct agency *a;
	int r;

	if (!run->o->map_path)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a)
		return mb_err(err, MB_ENOMEM, "out of memory");
	run->agency = a;
	if ((r = agencymap_load(run->o->map_path, &a->map, err)))
		return r;
	a->source = run->o->source_name ? run->o->source_name : a->map->source_name;
	if (!a->source || !*a->source)
		return mb_err(err, MB_EUSAGE,
			      "%s: no source name: give --source NAME or [source] name = ...",
			      run->o->map_path);
	run->source_name = a->source;
	if (a->map->location == AGENCYMAP_LOC_BNG && (r = geo_bng_open(&a->bng, err)))
		return r;
	if (a->map->location == AGENCYMAP_LOC_UNIT) {
		a->units = dict_new();
		if (!a->units)
			return mb_err(err, MB_ENOMEM, "out of memory");
		if ((r = store_layer_units(run->s, a->map->unit_layer, a->units, &a->layer_id, err)))
			return r;
	}
	return 0;
}

void ingest_agency_close(struct ingest_run *run)
{
	struct agency *a = run->agency;

	if (!a)
		return;
	agencymap_free(a->map);
	geo_bng_close(a->bng);
	dict_free(a->units);
	free(a);
	run->agency = NULL;
}
