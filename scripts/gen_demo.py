#!/usr/bin/env python3
"""Generate the microbeat demo district: a fictional South Cambridgeshire.

    python3 scripts/gen_demo.py --out datasets/demo [--seed 1] [--null]

Writes, under OUT:
  policeuk/YYYY-MM/YYYY-MM-cambridgeshire-street.csv   36 months, 2023-04 .. 2026-03
  gazetteer.csv        street_name,longitude,latitude,lsoa_code,area_code (every street)
  parishes.csv         parish_code,parish_name,population
  parishes.geojson     parish rectangles (PARCD, PARNM), WGS84
  lsoa.csv             lsoa_code,lsoa_name,population
  lsoa_to_parish.csv   lsoa_code,parish_code
  agency/fire_incidents.csv   incident_ref,call_date,incident_type,easting,northing (BNG)
  agency/council_asb.csv      case_id,date,category,lsoa_code
  force/force_extract.csv     the police.uk crimes again (same Crime IDs) with date, time,
                              offence subgroup, DA flag, hate flag and strand, street, parish
                              (column map scripts/demo_force_extract.ini)
and prints what it achieved (concentration, planted rises) to stderr.

--null writes a NULL district for checking that `flags` finds (almost) no priorities when
there is nothing to find: no planted parishes (no higher base, no rise), deliberate fires
and council ASB spread by population like everything else, and every parish the same crime
rate per head (no parish multiplier). Seasonality and street concentration within a parish
stay. Without --null the output is byte-identical to what it was before the option existed.

Determinism: the output bytes depend only on --seed. Every random number comes from
random.Random(int).random() (whose algorithm is fixed) through the helpers below;
nothing iterates over a set or depends on hashing; floats are printed with fixed
formats. Python standard library only. See docs/demo-data.md.

    python3 scripts/gen_demo.py --to-bng LON LAT [--osgb36]
prints the British National Grid easting and northing of a WGS84 point (or, with
--osgb36, of a point already on the OSGB36 datum), for tests of the conversion.
"""
import argparse
import bisect
import math
import os
import random
import re
import sys

FORCE = "Cambridgeshire Constabulary"
HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,"
          "LSOA code,LSOA name,Crime type,Last outcome category,Context")
FIRST_MONTH = (2023, 4)
N_MONTHS = 36
NO_LOCATION = "No Location"   # as spelt in the real Cambridgeshire files
DISTRICT = "South Cambridgeshire"

# The district's 104 civil parishes (ONS codes, 2022+), laid out as 13 rows x 8 columns,
# north to south and west to east, roughly where the real parishes lie (ordered by the
# centroid of their 2025 ward). Populations are approximate, rounded, and fictional.
PARISH_GRID = """
E04001783|Fen Drayton|900 E04001821|Lolworth|200 E04001843|Swavesey|2700 E04012749|Over|3100
E04013122|Willingham|4400 E04001775|Cottenham|6600 E04001835|Rampton|450 E04001813|Landbeach|900
E04013119|Longstanton|3700 E04013120|Northstowe|3400 E04013121|Oakington and Westwick|1600
E04001806|Histon|4900 E04010465|Impington|4500 E04010467|Orchard Park|3600 E04010466|Milton|4700
E04001848|Waterbeach|5600
E04001766|Boxworth|250 E04012747|Caxton|600 E04001773|Conington|200 E04001776|Croxton|200
E04012748|Elsworth|700 E04001781|Eltisley|450 E04001790|Graveley|250 E04001760|Bar Hill|4000
E04001812|Knapwell|200 E04001833|Papworth Everard|3600 E04001834|Papworth St. Agnes|200
E04012746|Cambourne|12000 E04001778|Dry Drayton|650 E04001788|Girton|4600 E04001824|Madingley|300
E04001782|Fen Ditton|800
E04001765|Bourn|1000 E04001767|Caldecote|1800 E04001786|Fulbourn|4800 E04001795|Great Wilbraham|600
E04001807|Horningsea|400 E04001820|Little Wilbraham|400 E04001842|Stow cum Quy|450
E04001845|Teversham|2800
E04001771|Childerley|200 E04001811|Kingston|250 E04001818|Little Gransden|300 E04001823|Longstowe|250
E04001797|Hardwick|2700 E04001847|Toft|600 E04001763|Barton|900 E04001772|Comberton|2400
E04001787|Gamlingay|3900 E04001774|Coton|900 E04012734|Grantchester|550 E04001798|Harlton|300
E04001799|Harston|1900 E04012735|Haslingfield|1500 E04012736|Hauxton|700
E04012737|South Trumpington|600
E04001761|Barrington|1000 E04001793|Great Eversden|250 E04001817|Little Eversden|600
E04001830|Orwell|1100 E04001855|Wimpole|250 E04001794|Great Shelford|4300
E04001819|Little Shelford|800 E04001840|Stapleford|1900
E04001828|Newton|400 E04013140|Sawston|7300 E04001759|Balsham|1600 E04001768|Carlton|250
E04001808|Horseheath|450 E04001850|West Wickham|450 E04001851|West Wratting|500
E04001849|Weston Colville|450
E04001756|Abington Pigotts|200 E04001757|Arrington|400 E04001825|Melbourn|4800
E04001826|Meldreth|1800 E04001837|Shepreth|800 E04001852|Whaddon|550
E04001846|Thriplow and Heathfield|1200 E04012082|Whittlesford|1700
E04001777|Croydon|200 E04001796|Guilden Morden|1000 E04001801|Hatley|200
E04001838|Shingay cum Wendy|200 E04001841|Steeple Morden|1100 E04001844|Tadlow|200
E04013139|Babraham|450 E04012081|Duxford|2100
E04001784|Fowlmere|1200 E04001785|Foxton|1200 E04001792|Great and Little Chishill|650
E04001803|Heydon|250 E04001805|Hinxton|350 E04001809|Ickleton|700 E04001832|Pampisford|350
E04001762|Bartlow|200
E04001764|Bassingbourn cum Kneesworth|3800 E04001815|Litlington|850 E04001769|Castle Camps|650
E04001791|Great Abington|900 E04001804|Hildersham|200 E04001814|Linton|4900
E04001816|Little Abington|550 E04001839|Shudy Camps|350
"""
GRID_COLS, GRID_ROWS = 8, 13
LON_W, LON_E, LAT_S, LAT_N = 0.0, 0.35, 52.05, 52.35

# The planted effect: violence and public order rise by RISE a year in these parishes
# (and their baseline rate of those two types is PLANTED_BASE times the district's).
PLANTED = ("Cambourne", "Orchard Park", "Northstowe", "Milton", "Waterbeach")
PLANTED_TYPES = ("Violence and sexual offences", "Public order")
RISE = 1.40
PLANTED_BASE = 2.5
FIRE_HOT = ("Northstowe", "Waterbeach")   # where deliberate fires concentrate

# police.uk crime type, crimes a year in the district (ASB: incidents), seasonal
# amplitude, peak month, street weighting class. Mix after South Cambridgeshire 2024.
CRIME_TYPES = [
    ("Anti-social behaviour", 2300, 0.25, 7, "asb"),
    ("Bicycle theft", 120, 0.35, 7, "base"),
    ("Burglary", 800, 0.12, 12, "base"),
    ("Criminal damage and arson", 1100, 0.08, 10, "base"),
    ("Drugs", 175, 0.05, 3, "base"),
    ("Other crime", 290, 0.03, 6, "base"),
    ("Other theft", 910, 0.06, 8, "theft"),
    ("Possession of weapons", 95, 0.05, 7, "base"),
    ("Public order", 730, 0.10, 7, "base"),
    ("Robbery", 65, 0.10, 12, "base"),
    ("Shoplifting", 690, 0.08, 12, "shop"),
    ("Theft from the person", 45, 0.10, 12, "base"),
    ("Vehicle crime", 760, 0.10, 11, "vehicle"),
    ("Violence and sexual offences", 4200, 0.12, 7, "base"),
]
ASB = "Anti-social behaviour"
NO_LOCATION_SHARE = 0.02
OUTCOMES = [   # weights after South Cambridgeshire 2024 (final outcomes)
    ("Investigation complete; no suspect identified", 3085), ("Unable to prosecute suspect", 2868),
    ("Court result unavailable", 371), ("Status update unavailable", 327), ("Local resolution", 273),
    ("Action to be taken by another organisation", 100), ("Offender given a caution", 95),
    ("Awaiting court outcome", 44), ("Further action is not in the public interest", 22),
    ("Formal action is not in the public interest", 14),
    ("Further investigation is not in the public interest", 10),
    ("Suspect charged as part of another case", 4), ("Under investigation", 0),
]
RECENT_BOOST = {"Under investigation": 900, "Awaiting court outcome": 400}  # last 3 months

# police.uk snap points that are not streets: name, chance per 1,000 residents (capped at
# 0.95), base chance, weight multiplier, and which weighting classes it attracts.
PLACES = [
    ("Supermarket", 0.25, 0.05, 3.0, ("shop", "theft")),
    ("Petrol Station", 0.12, 0.15, 3.0, ("shop", "theft")),
    ("Parking Area", 0.20, 0.10, 2.0, ("vehicle",)),
    ("Shopping Area", 0.08, 0.0, 2.5, ("shop", "theft")),
    ("Sports/Recreation Area", 0.15, 0.10, 1.5, ("asb",)),
    ("Park/Open Space", 0.10, 0.05, 1.2, ("asb",)),
    ("Further/Higher Educational Building", 0.03, 0.0, 1.5, ()),
    ("Bus/Coach Station", 0.02, 0.0, 1.5, ("asb",)),
    ("Nightclub", 0.01, 0.0, 3.0, ()),
    ("Hospital", 0.0, 0.0, 2.0, ()),
    ("Police Station", 0.0, 0.0, 1.5, ()),
]
FIXED_PLACES = {("Papworth Everard", "Hospital"), ("Cambourne", "Police Station"),
                ("Cambourne", "Nightclub"), ("Sawston", "Police Station")}
CLASS_BOOST = {"shop": 25.0, "theft": 3.0, "vehicle": 4.0, "asb": 3.0}
NONPLACE_CLASS = {"shop": 0.3}   # ordinary streets get little shoplifting

TARGET_STREETS = 2700
ZERO_SHARE = 0.42     # structural zeros: streets with no crime whatever the year
STREET_SIGMA = 1.05   # lognormal spread of the other streets' rates
PARISH_SIGMA = 0.30   # lognormal spread of parish crime rates per head
LSOA_PEOPLE = 1600    # residents per LSOA (1 to 4 LSOAs a parish)

COMMON_STREETS = ("High Street|Station Road|Church Lane|Cambridge Road|Church Street|Mill Lane|"
                  "The Green|School Lane|Main Street|New Road|London Road|Green Lane|Manor Road|"
                  "Park Lane|Church Road|The Crescent|Meadow Way|Orchard Close|Chapel Street|"
                  "Broad Street|West Street|North Road|South Road|Mill Road|The Close|Back Lane|"
                  "Elm Close|Queens Road|Kings Road|Victoria Road|Hall Lane|Rectory Lane|"
                  "The Avenue|Priory Road|Grange Road|Station Street|Bridge Street|Mill Street|"
                  "Field Road|Home Close").split("|")
STREET_STEMS = ("High Station Church Main Park Victoria Green Manor Mill School Queens New "
                "Kings Alexandra York London Chapel Albert Springfield George Windsor Grange "
                "Orchard Meadow Broad Bridge Market Castle Elm Oak Ash Beech Cedar Willow Holly "
                "Highfield Richmond Stanley Chestnut Mount Farm Brook Princes Warwick Clarence "
                "Nelson Cromwell Howard Wellington Grove Lime Poplar Hawthorn Rectory Vicarage "
                "Priory Abbey Hall Spring Well Water Marsh Heath Common Field Hollow Bell Swan Rose "
                "Sandy Cherry Walnut Maple Hazel Rowan Larch Laurel Ivy Primrose Bluebell Heather "
                "Fern Fox Badger Kestrel Falcon Mulberry Acacia Arundel Balmoral Beaconsfield "
                "Berkeley Blenheim Bramble Brunswick Byron Cavendish Chaucer Clifton Coronation "
                "Dorset Fairfield Gladstone Hamilton Hanover Hillside Jubilee Kent Lancaster "
                "Langley Lincoln Longfield Marlborough Newton Norfolk Oakfield Osborne Pembroke "
                "Portland Regent Ridgeway Rutland Salisbury Sandringham Shakespeare Somerset "
                "Southfield Spencer Tennyson Trinity Tudor Warren Waverley Westfield Woodland "
                "Woodside Glebe Pound Plough Harvest Barley Wheatfield Drift Fen Lode Dovecote "
                "Pightle Cuckoo Partridge Skylark Heron Swallow Lark Mallard Teal Otter "
                "Kingfisher Nightingale Hornbeam Sycamore Aspen Alder Hazelwood Saxon Roman").split()
STREET_STEMS += ["St John's", "St Mary's", "St Peter's", "St Andrew's", "King's", "Bishop's"]
STREET_SUFFIXES = [("Road", 26), ("Close", 18), ("Lane", 14), ("Way", 9), ("Street", 8),
                   ("Drive", 6), ("Avenue", 5), ("Court", 4), ("Gardens", 4), ("Crescent", 3),
                   ("Place", 2), ("Grove", 2), ("Walk", 2), ("Mews", 1), ("Row", 1),
                   ("Rise", 1), ("View", 1), ("Meadow", 1), ("Green", 1), ("End", 1)]

FIRE_TYPES = [   # type, share, deliberate (concentrates in FIRE_HOT), summer peak amplitude
    ("Deliberate secondary fire", 0.30, True, 0.6),
    ("Deliberate vehicle fire", 0.10, True, 0.2),
    ("Deliberate primary fire", 0.05, True, 0.2),
    ("Accidental dwelling fire", 0.22, False, -0.15),
    ("Accidental secondary fire", 0.15, False, 0.6),
    ("Accidental vehicle fire", 0.10, False, 0.0),
    ("Chimney fire", 0.08, False, -0.8),
]
FIRE_PER_YEAR = 200
FIRE_HOT_SHARE = 0.55    # share of deliberate fires in FIRE_HOT
ASB_TYPES = [("Fly-tipping", 0.40), ("Noise", 0.25), ("Dog fouling", 0.10), ("Graffiti", 0.10),
             ("Abandoned vehicle", 0.08), ("Neighbour dispute", 0.07)]
COUNCIL_ASB_PER_YEAR = 267
EDGE = 0.002   # degrees kept clear of every parish or LSOA edge (>= 135 m)


# ---------------------------------------------------------------- random helpers
class Rng:
    """Random numbers from random.Random(seed).random() only (a fixed algorithm)."""

    def __init__(self, seed, stream):
        self.r = random.Random(seed * 16 + stream)

    def u(self):
        return self.r.random()

    def below(self, n):
        """A uniform integer in [0, n)."""
        return min(n - 1, int(self.u() * n))

    def normal(self):
        """Standard normal by Box-Muller (one of the pair)."""
        u1, u2 = self.u(), self.u()
        return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)

    def lognormal(self, sigma):
        return math.exp(sigma * self.normal())

    def poisson(self, lam):
        """Poisson(lam): Knuth's product method, in chunks of at most 20 (exact)."""
        k = 0
        while lam > 0:
            part = min(lam, 20.0)
            lam -= part
            limit, p = math.exp(-part), self.u()
            while p > limit:
                k += 1
                p *= self.u()
        return k

    def pick(self, cum):
        """An index drawn with the cumulative weights cum (last element = total > 0)."""
        return min(len(cum) - 1, bisect.bisect_right(cum, self.u() * cum[-1]))

    def hex64(self):
        return "".join(f"{int(self.u() * 4294967296.0):08x}" for _ in range(8))


def cumulative(ws):
    out, s = [], 0.0
    for w in ws:
        s += w
        out.append(s)
    return out


# ---------------------------------------------------------------- BNG conversion
def wgs84_to_osgb36(lon, lat):
    """WGS84 (ETRS89) lon/lat -> OSGB36 lon/lat by the OS 7-parameter Helmert transform
    (OS, "A guide to coordinate systems in Great Britain", sections 6 and B; ~5 m)."""
    a, b = 6378137.000, 6356752.3141           # GRS80
    e2 = (a * a - b * b) / (a * a)
    phi, lam = math.radians(lat), math.radians(lon)
    nu = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    x = nu * math.cos(phi) * math.cos(lam)
    y = nu * math.cos(phi) * math.sin(lam)
    z = (1 - e2) * nu * math.sin(phi)
    tx, ty, tz, s = -446.448, 125.157, -542.060, 20.4894e-6
    sec = math.pi / (180 * 3600)
    rx, ry, rz = -0.1502 * sec, -0.2470 * sec, -0.8421 * sec
    x2 = tx + (1 + s) * x - rz * y + ry * z
    y2 = ty + rz * x + (1 + s) * y - rx * z
    z2 = tz - ry * x + rx * y + (1 + s) * z
    a, b = 6377563.396, 6356256.909            # Airy 1830
    e2 = (a * a - b * b) / (a * a)
    p = math.hypot(x2, y2)
    phi = math.atan2(z2, p * (1 - e2))
    for _ in range(10):
        nu = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
        phi = math.atan2(z2 + e2 * nu * math.sin(phi), p)
    return math.degrees(math.atan2(y2, x2)), math.degrees(phi)


def osgb36_to_bng(lon, lat):
    """OSGB36 lon/lat -> National Grid easting, northing (OS guide, section C.1)."""
    a, b, f0 = 6377563.396, 6356256.909, 0.9996012717
    phi0, lam0, e0, n0 = math.radians(49.0), math.radians(-2.0), 400000.0, -100000.0
    e2 = 1 - (b * b) / (a * a)
    n = (a - b) / (a + b)
    phi, lam = math.radians(lat), math.radians(lon)
    sp, cp, tp = math.sin(phi), math.cos(phi), math.tan(phi)
    nu = a * f0 / math.sqrt(1 - e2 * sp * sp)
    rho = a * f0 * (1 - e2) / (1 - e2 * sp * sp) ** 1.5
    eta2 = nu / rho - 1
    dp, sp_ = phi - phi0, phi + phi0
    m = b * f0 * ((1 + n + 5 / 4 * n ** 2 + 5 / 4 * n ** 3) * dp
                  - (3 * n + 3 * n ** 2 + 21 / 8 * n ** 3) * math.sin(dp) * math.cos(sp_)
                  + (15 / 8 * n ** 2 + 15 / 8 * n ** 3) * math.sin(2 * dp) * math.cos(2 * sp_)
                  - 35 / 24 * n ** 3 * math.sin(3 * dp) * math.cos(3 * sp_))
    i = m + n0
    ii = nu / 2 * sp * cp
    iii = nu / 24 * sp * cp ** 3 * (5 - tp ** 2 + 9 * eta2)
    iiia = nu / 720 * sp * cp ** 5 * (61 - 58 * tp ** 2 + tp ** 4)
    iv = nu * cp
    v = nu / 6 * cp ** 3 * (nu / rho - tp ** 2)
    vi = nu / 120 * cp ** 5 * (5 - 18 * tp ** 2 + tp ** 4 + 14 * eta2 - 58 * tp ** 2 * eta2)
    dl = lam - lam0
    north = i + ii * dl ** 2 + iii * dl ** 4 + iiia * dl ** 6
    east = e0 + iv * dl + v * dl ** 3 + vi * dl ** 5
    return east, north


def wgs84_to_bng(lon, lat):
    return osgb36_to_bng(*wgs84_to_osgb36(lon, lat))


# ---------------------------------------------------------------- the district
def month_label(i):
    y, m = divmod(FIRST_MONTH[0] * 12 + FIRST_MONTH[1] - 1 + i, 12)
    return f"{y:04d}-{m + 1:02d}"


def days_in_month(y, m):
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def read_parishes():
    tokens = re.findall(r"E04\d{6}\|[^|\n]+\|\d+", PARISH_GRID)
    parishes = []
    for idx, tok in enumerate(tokens):
        code, name, pop = tok.split("|")
        row, col = divmod(idx, GRID_COLS)
        w = LON_W + (LON_E - LON_W) * col / GRID_COLS
        e = LON_W + (LON_E - LON_W) * (col + 1) / GRID_COLS
        n = LAT_N - (LAT_N - LAT_S) * row / GRID_ROWS
        s = LAT_N - (LAT_N - LAT_S) * (row + 1) / GRID_ROWS
        parishes.append(dict(idx=idx, code=code, name=name, pop=int(pop), row=row, col=col,
                             w=w, e=e, s=s, n=n))
    assert len(parishes) == GRID_COLS * GRID_ROWS, len(parishes)
    return parishes


def split_int(total, parts):
    """total split into `parts` near-equal integers (the first ones larger)."""
    base, extra = divmod(total, parts)
    return [base + (1 if k < extra else 0) for k in range(parts)]


def build_district(seed, null=False):
    rng = Rng(seed, 1)
    parishes = read_parishes()
    by_name = {p["name"]: p for p in parishes}
    raw = [p["pop"] ** 0.75 for p in parishes]
    n_places_est = 2.0 * len(parishes)
    scale = (TARGET_STREETS - n_places_est) / sum(raw)
    stem_cum = cumulative(1 / (i + 1) ** 0.7 for i in range(len(STREET_STEMS)))
    common_cum = cumulative(1 / (i + 1) ** 0.5 for i in range(len(COMMON_STREETS)))
    suf_cum = cumulative(w for _, w in STREET_SUFFIXES)
    lsoas, streets = [], []
    for p in parishes:
        p["planted"] = p["name"] in PLANTED and not null
        p["mult"] = rng.lognormal(PARISH_SIGMA)
        if null:   # drawn all the same, so the rest of the stream is as without --null
            p["mult"] = 1.0
        n_lsoa = max(1, min(4, round(p["pop"] / LSOA_PEOPLE)))
        p["lsoas"] = []
        for j, lpop in enumerate(split_int(p["pop"], n_lsoa)):
            width = (p["e"] - p["w"]) / n_lsoa
            l = dict(code=f"E0199{len(lsoas) + 1:04d}",
                     name=f"{DISTRICT} {p['idx'] + 1:03d}{'ABCD'[j]}",
                     pop=lpop, parish=p, w=p["w"] + width * j, e=p["w"] + width * (j + 1))
            lsoas.append(l)
            p["lsoas"].append(l)
        # neighbouring single-word parishes give "<Neighbour> Road" names
        neigh = [q["name"] for q in parishes if q is not p and " " not in q["name"]
                 and abs(q["row"] - p["row"]) <= 1 and abs(q["col"] - p["col"]) <= 1]
        used, plan = set(), []
        for pname, per_k, base, wmult, classes in PLACES:
            chance = min(0.95, base + per_k * p["pop"] / 1000.0)
            fixed = (p["name"], pname) in FIXED_PLACES
            if rng.u() < chance or fixed:
                plan.append((pname, wmult, classes))
                used.add(pname)
        n_streets = max(3, round(scale * raw[p["idx"]]))
        for k in range(n_streets):
            while True:
                r = rng.u()
                if r < 0.30:
                    name = COMMON_STREETS[rng.pick(common_cum)]
                elif r < 0.36 and neigh:
                    name = neigh[rng.below(len(neigh))] + " Road"
                else:
                    name = STREET_STEMS[rng.pick(stem_cum)] + " " + STREET_SUFFIXES[rng.pick(suf_cum)][0]
                if name not in used:
                    break
            used.add(name)
            plan.append((name, None, ()))
        weights = []
        for k, (name, wmult, classes) in enumerate(plan):
            l = p["lsoas"][k % n_lsoa] if k < n_lsoa else p["lsoas"][rng.below(n_lsoa)]
            lon = l["w"] + EDGE + (l["e"] - l["w"] - 2 * EDGE) * rng.u()
            lat = p["s"] + EDGE + (p["n"] - p["s"] - 2 * EDGE) * rng.u()
            if wmult is not None:
                w = wmult * rng.lognormal(0.5)
            else:
                zero = rng.u() < ZERO_SHARE
                w = rng.lognormal(STREET_SIGMA)
                w = 0.0 if zero else w
            weights.append(w)
            streets.append(dict(name=name, lon=f"{lon:.6f}", lat=f"{lat:.6f}", lsoa=l,
                                parish=p, w=w, place=wmult is not None, classes=classes))
        if max(weights) == 0.0:   # every parish needs somewhere for its crime to happen
            streets[-len(plan)]["w"] = 1.0
        p["streets"] = streets[-len(plan):]
    for p in parishes:   # street weights sum to the parish's people x its rate per head
        tot = sum(s["w"] for s in p["streets"])
        for s in p["streets"]:
            s["w"] *= p["pop"] * p["mult"] / tot
    for p in parishes:
        p["cum"] = {}
        for cls in ("base", "asb", "shop", "theft", "vehicle"):
            ws = []
            for s in p["streets"]:
                if s["place"]:
                    ws.append(s["w"] * (CLASS_BOOST[cls] if cls in s["classes"] else 1.0))
                else:
                    ws.append(s["w"] * NONPLACE_CLASS.get(cls, 1.0))
            p["cum"][cls] = cumulative(ws)
    assert all(n in by_name for n in PLANTED + FIRE_HOT)
    return parishes, lsoas, streets


def season(amp, peak, cal_month):
    return 1.0 + amp * math.cos(2.0 * math.pi * (cal_month - peak) / 12.0)


def gen_crime(seed, parishes, out, crimes=None):
    """Write the 36 monthly files; return the rows as (month index, type, street or None).
    crimes (a list), when given, gets (month index, type, Crime ID, street or None, parish)
    of every crime (not ASB), for the force extract; it draws no random number."""
    rng = Rng(seed, 2)
    # per_year is the district's expectation in the first financial year, planted parishes
    # included (their violence and public order start at PLANTED_BASE times the rate)
    people = sum(p["pop"] * p["mult"] for p in parishes)
    people_planted = sum(p["pop"] * p["mult"] * (PLANTED_BASE if p["planted"] else 1.0)
                         for p in parishes)
    out_names = [o for o, _ in OUTCOMES]
    cum_final = cumulative(w for _, w in OUTCOMES)
    cum_recent = cumulative(w + RECENT_BOOST.get(o, 0) for o, w in OUTCOMES)
    ids, events = set(), []
    for mi in range(N_MONTHS):
        month = month_label(mi)
        cal = int(month[5:7])
        prefix = f"{month},{FORCE},{FORCE},"
        ocum = cum_recent if mi >= N_MONTHS - 3 else cum_final
        rows = []
        for p in parishes:
            for t, (ctype, per_year, amp, peak, cls) in enumerate(CRIME_TYPES):
                lam = per_year / 12.0 * p["pop"] * p["mult"] * season(amp, peak, cal)
                if ctype not in PLANTED_TYPES:
                    lam /= people
                elif not p["planted"]:
                    lam /= people_planted
                else:
                    lam *= PLANTED_BASE * RISE ** (mi / 12.0) / people_planted
                for _ in range(rng.poisson(lam)):
                    if rng.u() < NO_LOCATION_SHARE:
                        s, where = None, f",,{NO_LOCATION},,"
                    else:
                        s = p["streets"][rng.pick(p["cum"][cls])]
                        where = (f"{s['lon']},{s['lat']},On or near {s['name']},"
                                 f"{s['lsoa']['code']},{s['lsoa']['name']}")
                    if ctype == ASB:
                        line = f",{prefix}{where},{ctype},,"
                    else:
                        cid = rng.hex64()
                        while cid in ids:
                            cid = rng.hex64()
                        ids.add(cid)
                        line = f"{cid},{prefix}{where},{ctype},{out_names[rng.pick(ocum)]},"
                        if crimes is not None:
                            crimes.append((mi, ctype, cid, s, p))
                    key = s["lsoa"]["name"] if s else "\x7f"
                    rows.append((key, t, len(rows), line))
                    events.append((mi, t, s, p))
        rows.sort()   # like the real files: by LSOA name, then crime type; no location last
        d = os.path.join(out, "policeuk", month)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"{month}-cambridgeshire-street.csv"), "w",
                  encoding="utf-8", newline="") as fh:
            fh.write(HEADER + "\r\n")
            fh.write("".join(r[3] + "\r\n" for r in rows))
    return events


def point_in(rng, p):
    lon = p["w"] + EDGE + (p["e"] - p["w"] - 2 * EDGE) * rng.u()
    lat = p["s"] + EDGE + (p["n"] - p["s"] - 2 * EDGE) * rng.u()
    return lon, lat


def gen_agency(seed, parishes, lsoas, out, null=False):
    os.makedirs(os.path.join(out, "agency"), exist_ok=True)
    pop_cum = cumulative(p["pop"] for p in parishes)
    hot = [p for p in parishes if p["name"] in FIRE_HOT]
    rng = Rng(seed, 3)
    fires = []
    for mi in range(N_MONTHS):
        y, m = int(month_label(mi)[:4]), int(month_label(mi)[5:])
        for ftype, share, deliberate, amp in FIRE_TYPES:
            for _ in range(rng.poisson(FIRE_PER_YEAR / 12.0 * share * season(amp, 7, m))):
                if deliberate and rng.u() < (0.0 if null else FIRE_HOT_SHARE):
                    p = hot[rng.below(len(hot))]
                else:
                    p = parishes[rng.pick(pop_cum)]
                lon, lat = point_in(rng, p)
                east, north = wgs84_to_bng(lon, lat)
                day = 1 + rng.below(days_in_month(y, m))
                fires.append(((y, m, day), ftype, f"{east:.0f}", f"{north:.0f}", p))
    fires.sort(key=lambda f: f[0])   # stable: same-day incidents keep generation order
    with open(os.path.join(out, "agency", "fire_incidents.csv"), "w", encoding="utf-8",
              newline="") as fh:
        fh.write("incident_ref,call_date,incident_type,easting,northing\n")
        for k, ((y, m, d), ftype, east, north, _p) in enumerate(fires):
            fh.write(f"CFRS{y % 100:02d}{k + 1:05d},{d:02d}/{m:02d}/{y:04d},{ftype},{east},{north}\n")
    rng = Rng(seed, 4)
    lsoa_cum = cumulative(l["pop"] * (2.0 if l["parish"]["planted"] else 1.0) for l in lsoas)
    type_cum = cumulative(s for _, s in ASB_TYPES)
    cases = []
    for mi in range(N_MONTHS):
        y, m = int(month_label(mi)[:4]), int(month_label(mi)[5:])
        for _ in range(rng.poisson(COUNCIL_ASB_PER_YEAR / 12.0 * season(0.2, 7, m))):
            l = lsoas[rng.pick(lsoa_cum)]
            cat = ASB_TYPES[rng.pick(type_cum)][0]
            cases.append(((y, m, 1 + rng.below(days_in_month(y, m))), cat, l["code"]))
    cases.sort(key=lambda c: c[0])
    with open(os.path.join(out, "agency", "council_asb.csv"), "w", encoding="utf-8",
              newline="") as fh:
        fh.write("case_id,date,category,lsoa_code\n")
        for k, ((y, m, d), cat, code) in enumerate(cases):
            fh.write(f"SCDC-ASB-{k + 1:05d},{y:04d}-{m:02d}-{d:02d},{cat},{code}\n")
    return fires, cases


# The force extract (issue 19): the same crimes with the fields police.uk leaves out. In
# DA_FLAT (two of the planted parishes) the violence rise is non-DA violence without injury:
# DA-flagged violence and the other subgroups stay flat in expectation (their probability
# falls as the rise grows); everywhere else (the other planted parishes too) the mix is
# fixed, so DA rises with the rest there.
DA_FLAT = ("Milton", "Waterbeach")
# violence: (subgroup, illustrative offence code, share of a month's violence at the
# start (g = 1)); non-DA "Violence without injury" takes what the others leave
VIOLENCE_DA = 0.35   # DA-flagged share of violence at g = 1
VIOLENCE_DA_MIX = (("Violence with injury", "VAP/01", 0.35),
                   ("Violence without injury", "VAP/02", 0.40),
                   ("Stalking and harassment", "VAP/03", 0.25))
VIOLENCE_OTHER = (("Violence with injury", "VAP/01", 0.20),
                  ("Stalking and harassment", "VAP/03", 0.15),
                  ("Sexual offences", "SXO/01", 0.10),
                  ("Death or serious injury", "VAP/04", 0.005))
VIOLENCE_WITHOUT = ("Violence without injury", "VAP/02")
PUBLIC_ORDER_MIX = (("Public fear, alarm or distress", "POF/01", 0.70),
                    ("Racially or religiously aggravated public fear, alarm or distress",
                     "POF/02", 0.08),
                    ("Other offences against the state or public order", "POF/03", 0.20),
                    ("Violent disorder", "POF/04", 0.02))
HATE_STRANDS = (("Race", 0.70), ("Religion", 0.08), ("Sexual orientation", 0.12),
                ("Disability", 0.07), ("Transgender", 0.03))
HATE_SHARE = 0.03        # of non-DA violence and of plain public order
DA_OTHER = {"Criminal damage and arson": 0.08, "Other crime": 0.05}   # DA share, other types
# hour of day weights 0..23 (violence and public order: evenings and nights; others: day)
HOURS_NIGHT = (6, 5, 4, 3, 2, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 4, 5, 6, 6, 7, 8, 8, 7)
HOURS_DAY = (1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 5, 4, 3, 3, 2, 2, 1)
TIME_UNKNOWN = 0.02      # share of rows with a blank time


def gen_force_extract(seed, crimes, out):
    """Write force/force_extract.csv (own random stream: the other files stay as they were)."""
    rng = Rng(seed, 5)
    strand_cum = cumulative(w for _, w in HATE_STRANDS)
    night_cum, day_cum = cumulative(HOURS_NIGHT), cumulative(HOURS_DAY)
    po_cum = cumulative(w for _, _, w in PUBLIC_ORDER_MIX)
    da_cum = cumulative(w for _, _, w in VIOLENCE_DA_MIX)
    rows = []
    for mi, ctype, cid, s, p in crimes:
        y, m = int(month_label(mi)[:4]), int(month_label(mi)[5:])
        day = 1 + rng.below(days_in_month(y, m))
        sub, code, da, hate, strand = "", "", "N", "N", ""
        if ctype == "Violence and sexual offences":
            g = RISE ** (mi / 12.0) if p["planted"] and p["name"] in DA_FLAT else 1.0
            u = rng.u() * g   # P(a component) = its share / g: flat counts where g grows
            if u < VIOLENCE_DA:
                da = "Y"
                sub, code, _w = VIOLENCE_DA_MIX[rng.pick(da_cum)]
            else:
                u -= VIOLENCE_DA
                sub, code = VIOLENCE_WITHOUT
                for name, c, w in VIOLENCE_OTHER:
                    if u < w:
                        sub, code = name, c
                        break
                    u -= w
                if rng.u() < HATE_SHARE:
                    hate, strand = "Y", HATE_STRANDS[rng.pick(strand_cum)][0]
        elif ctype == "Public order":
            sub, code, _w = PUBLIC_ORDER_MIX[rng.pick(po_cum)]
            if code == "POF/02":   # racially or religiously aggravated: a hate crime
                hate, strand = "Y", "Race" if rng.u() < 0.8 else "Religion"
            elif rng.u() < HATE_SHARE:
                hate, strand = "Y", HATE_STRANDS[rng.pick(strand_cum)][0]
        elif rng.u() < DA_OTHER.get(ctype, 0.0):
            da = "Y"
        night = ctype in PLANTED_TYPES or ctype == "Criminal damage and arson"
        hour = rng.pick(night_cum if night else day_cum)
        minute = rng.below(60)
        when = "" if rng.u() < TIME_UNKNOWN else f"{hour:02d}:{minute:02d}"
        rows.append(((y, m, day), when or "99", cid, f"{y:04d}-{m:02d}-{day:02d}", when, code,
                     sub, ctype, da, hate, strand, s["name"] if s else "", p["name"]))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))   # like an export: by date and time
    os.makedirs(os.path.join(out, "force"), exist_ok=True)
    with open(os.path.join(out, "force", "force_extract.csv"), "w", encoding="utf-8",
              newline="") as fh:
        fh.write("crime_ref,date_committed,time_committed,ho_offence_code,offence_subgroup,"
                 "police_uk_type,domestic_abuse,hate_crime,hate_strand,street,parish\n")
        for r in rows:
            fh.write(",".join(f'"{v}"' if "," in v else v for v in r[2:]) + "\n")
    return len(rows)


def write_side_files(parishes, lsoas, streets, out):
    def put(name, lines):
        with open(os.path.join(out, name), "w", encoding="utf-8", newline="") as fh:
            fh.write("".join(line + "\n" for line in lines))
    put("gazetteer.csv", ["street_name,longitude,latitude,lsoa_code,area_code"] +
        [f"{s['name']},{s['lon']},{s['lat']},{s['lsoa']['code']},{s['parish']['code']}"
         for s in streets])
    put("parishes.csv", ["parish_code,parish_name,population"] +
        [f"{p['code']},{p['name']},{p['pop']}" for p in parishes])
    put("lsoa.csv", ["lsoa_code,lsoa_name,population"] +
        [f"{l['code']},{l['name']},{l['pop']}" for l in lsoas])
    put("lsoa_to_parish.csv", ["lsoa_code,parish_code"] +
        [f"{l['code']},{l['parish']['code']}" for l in lsoas])
    feats = []
    for p in parishes:   # counter-clockwise exterior ring, closed
        ring = [(p["w"], p["s"]), (p["e"], p["s"]), (p["e"], p["n"]), (p["w"], p["n"]), (p["w"], p["s"])]
        coords = ",".join(f"[{x:.6f},{y:.6f}]" for x, y in ring)
        feats.append('{"type":"Feature","properties":{"PARCD":"%s","PARNM":"%s"},'
                     '"geometry":{"type":"Polygon","coordinates":[[%s]]}}' % (p["code"], p["name"], coords))
    put("parishes.geojson", ['{"type":"FeatureCollection","features":['] +
        [f + ("," if k < len(feats) - 1 else "") for k, f in enumerate(feats)] + ["]}"])


# ---------------------------------------------------------------- achieved figures
def binom_two_sided(a, n):
    """Exact two-sided binomial test of a successes out of n at p = 1/2."""
    if n == 0:
        return 1.0
    logp = [math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) - n * math.log(2)
            for k in range(n + 1)]
    cut = logp[a] + 1e-7 * max(1.0, abs(logp[a]))   # ties count as "as extreme"
    return min(1.0, sum(math.exp(v) for v in logp if v <= cut))


def report(parishes, streets, events, fires, cases):
    say = lambda s: print("gen_demo: " + s, file=sys.stderr)
    asb = [t for t, c in enumerate(CRIME_TYPES) if c[0] == ASB][0]
    for fy in range(3):
        sel = [e for e in events if e[0] // 12 == fy]
        say(f"FY{2023 + fy}/{(24 + fy) % 100:02d}: {sum(1 for e in sel if e[1] != asb)} crimes, "
            f"{sum(1 for e in sel if e[1] == asb)} ASB, "
            f"{sum(1 for e in sel if e[2] is None) / max(1, len(sel)):.1%} no location")
    index = {id(s): k for k, s in enumerate(streets)}
    for fy in range(3):
        counts = [0] * len(streets)
        for mi, t, s, _p in events:
            if mi // 12 == fy and t != asb and s is not None:
                counts[index[id(s)]] += 1
        counts.sort(reverse=True)
        tot = sum(counts)
        tops = " ".join(f"top{pc}%={sum(counts[:math.ceil(len(counts) * pc / 100)]) / tot:.1%}"
                        for pc in (1, 3, 5, 10))
        say(f"FY{2023 + fy}/{(24 + fy) % 100:02d}: {len(streets)} streets, {tops}, "
            f"crime-free={sum(1 for c in counts if c == 0) / len(counts):.1%}")
    vt = [t for t, c in enumerate(CRIME_TYPES) if c[0] in PLANTED_TYPES]
    flagged = []
    for p in parishes:   # violence + public order, violence, public order by financial year
        y = [[0, 0, 0] for _ in range(3)]
        for mi, t, _s, q in events:
            if q is p and t in vt:
                y[0][mi // 12] += 1
                y[1 + vt.index(t)][mi // 12] += 1
        pv = [binom_two_sided(c[2], c[1] + c[2]) for c in y]
        if p["planted"]:
            say(f"planted {p['name']}: " + "; ".join(
                f"{lab} {c[0]} -> {c[1]} -> {c[2]} (p={q:.2g})"
                for lab, c, q in zip(["V+PO"] + [CRIME_TYPES[t][0] for t in vt], y, pv)))
        elif pv[0] < 0.01:
            flagged.append(f"{p['name']} ({y[0][1]} -> {y[0][2]})")
    say("p: exact two-sided binomial test, FY2025/26 against FY2024/25")
    say(f"unplanted parishes with V+PO p<0.01: {', '.join(flagged) or 'none'}")
    hot = sum(1 for f in fires if f[4]["name"] in FIRE_HOT)
    say(f"{len(fires)} fire incidents ({hot} in {' and '.join(FIRE_HOT)}), {len(cases)} council ASB cases")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="output folder (files are overwritten)")
    ap.add_argument("--seed", type=int, default=1, help="random seed, >= 0 (default 1)")
    ap.add_argument("--null", action="store_true",
                    help="no planted effects: equal rates per head, no rise (see docs/demo-data.md)")
    ap.add_argument("--to-bng", nargs=2, type=float, metavar=("LON", "LAT"),
                    help="print the BNG easting and northing of a WGS84 point and exit")
    ap.add_argument("--osgb36", action="store_true", help="with --to-bng: the point is OSGB36")
    a = ap.parse_args()
    if a.to_bng:
        lon, lat = a.to_bng
        east, north = osgb36_to_bng(lon, lat) if a.osgb36 else wgs84_to_bng(lon, lat)
        print(f"{east:.3f} {north:.3f}")
        return 0
    if not a.out or a.seed < 0:
        ap.error("--out is required and --seed must be >= 0")
    parishes, lsoas, streets = build_district(a.seed, a.null)
    os.makedirs(a.out, exist_ok=True)
    write_side_files(parishes, lsoas, streets, a.out)
    crimes = []
    events = gen_crime(a.seed, parishes, a.out, crimes)
    fires, cases = gen_agency(a.seed, parishes, lsoas, a.out, a.null)
    n_extract = gen_force_extract(a.seed, crimes, a.out)
    report(parishes, streets, events, fires, cases)
    print(f"gen_demo: force extract: {n_extract} crimes (force/force_extract.csv)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
