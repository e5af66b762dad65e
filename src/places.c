/* places — police.uk non-street snap points (mirrors datasets/place_names.csv). */
#include <string.h>
#include <strings.h>

#include "microbeat/places.h"

/* Anonymisation points that police.uk names after a kind of place, not a street. */
static const char *const PLACES[] = {
	"Parking Area",
	"Supermarket",
	"Shopping Area",
	"Petrol Station",
	"Sports/Recreation Area",
	"Further/Higher Educational Building",
	"Park/Open Space",
	"Hospital",
	"Prison",
	"Theatre/Concert Hall",
	"Nightclub",
	"Police Station",
	"Pedestrian Subway",
	"Bus/Coach Station",
	"Conference/Exhibition Centre",
	"Airport/Airfield",
	"Theme/Adventure Park",
};

int places_is_place(const char *norm_name)
{
	for (size_t i = 0; i < sizeof(PLACES) / sizeof(PLACES[0]); i++)
		if (strcasecmp(norm_name, PLACES[i]) == 0)
			return 1;
	return 0;
}

const char *const *places_list(size_t *n)
{
	*n = sizeof(PLACES) / sizeof(PLACES[0]);
	return PLACES;
}
