/* places — police.uk non-street snap points (mirrors datasets/place_names.csv), and the
 * normalised snap-point name that street identity is keyed on. */
#include <ctype.h>
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
	/* looked at once per street a command loads (800k national): the first
	 * letters compared before the whole names */
	int c0 = toupper((unsigned char)norm_name[0]);

	for (size_t i = 0; i < sizeof(PLACES) / sizeof(PLACES[0]); i++)
		if (c0 == toupper((unsigned char)PLACES[i][0]) && strcasecmp(norm_name, PLACES[i]) == 0)
			return 1;
	return 0;
}

const char *const *places_list(size_t *n)
{
	*n = sizeof(PLACES) / sizeof(PLACES[0]);
	return PLACES;
}

size_t ingest_normalise_name(const char *in, size_t len, char *out, size_t cap)
{
	static const char prefix[] = "on or near ";
	size_t i = 0, o = 0;

	if (cap == 0)
		return 0;
	if (len >= sizeof(prefix) - 1 && strncasecmp(in, prefix, sizeof(prefix) - 1) == 0)
		i = sizeof(prefix) - 1;
	int space = 0;

	for (; i < len && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < cap)
			out[o++] = ' ';
		space = 0;
		out[o++] = (char)(c < 0x80 ? toupper(c) : c);
	}
	out[o] = '\0';
	return o;
}
