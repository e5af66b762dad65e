#!/bin/bash
# Issue 21 item 13: every SVG chart parses as XML whatever the names. Crime types, street and
# unit names carrying XML trouble ("]]>", which gnuplot's SVG terminal leaves in text, where XML
# forbids it; "<![CDATA[", "&", "&#0;", U+FFFE, gnuplot enhanced-text markup, quotes) go
# through concentration, trends --by type and flags with --out; every .svg written is parsed
# with python3's XML parser (before the fix yoy.svg, monthly_NN.svg and heatmap.svg did not).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
command -v gnuplot >/dev/null || skip "gnuplot missing: no chart drawn"
cd "$T" || fail "cd"
python3 - "$T" <<'PY' || fail "fixtures"
import csv, hashlib, json, os, sys
T = sys.argv[1]
names = ["A]]>B", "]]>", "x]]]]>>y", "<![CDATA[c", "&amp; & &#0; &x", "u\ufffeu\uffff", "{/Symbol a}^2_x @y &{z}",
         "q\"u'o`te", "back\\slash]]"]
hdr = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
       "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
f = "Cambridgeshire Constabulary"
os.makedirs(T + "/in")
for m in range(24):
    month = "%04d-%02d" % (2023 + m // 12, m % 12 + 1)
    with open(T + "/in/%s-x-street.csv" % month, "w", newline="") as g:
        w = csv.writer(g, lineterminator="\n"); w.writerow(hdr)
        for i in range(60 + (m if m >= 12 else 0)):
            k = i % len(names)
            cid = hashlib.sha256(f"{month}-{i}".encode()).hexdigest()
            w.writerow([cid, month, f, f, "%.4f" % (0.002 + 0.004 * k), "52.005",
                        "On or near " + names[(i // 3) % len(names)], "E01000001",
                        "South Cambridgeshire 001A", names[k], "Under investigation", ""])
feats = []
for k, n in enumerate(names):
    x0 = 0.004 * k
    ring = [[x0, 52.0], [x0 + 0.004, 52.0], [x0 + 0.004, 52.01], [x0, 52.01], [x0, 52.0]]
    feats.append({"type": "Feature", "properties": {"code": "P%d" % k, "name": n},
                  "geometry": {"type": "Polygon", "coordinates": [ring]}})
json.dump({"type": "FeatureCollection", "features": feats}, open(T + "/p.geojson", "w"))
PY
mb --db s.db import --quiet in || fail "import exit $?"
mb --db s.db areas --layer parish --boundaries p.geojson --code-field code --name-field name >/dev/null ||
  fail "areas exit $?"
mb --db s.db concentration --from 2024-01 --to 2024-12 --out conc >/dev/null || fail "concentration exit $?"
mb --db s.db trends --from 2023-01 --to 2024-12 --by type --out trends >/dev/null || fail "trends exit $?"
mb --db s.db flags --layer parish --from 2023-01 --to 2024-12 --min-flags 1 --out flags >/dev/null ||
  fail "flags exit $?"
python3 - conc trends flags <<'PY' || fail "an SVG chart is not well-formed XML"
import glob, sys, xml.dom.minidom as md
svgs = sorted(p for d in sys.argv[1:] for p in glob.glob(d + "/*.svg"))
bad = 0
for p in svgs:
    try:
        md.parse(p)
    except Exception as e:
        bad += 1; print("%s: %s" % (p, e))
need = {"yoy.svg", "heatmap.svg", "monthly_01.svg"}
got = {p.split("/")[-1] for p in svgs}
if not need <= got:
    print("charts missing:", need - got); bad += 1
print("%d SVG charts parsed, %d bad" % (len(svgs), bad))
sys.exit(1 if bad else 0)
PY
echo "every SVG chart parses as XML with ]]>, CDATA, entities, U+FFFE and markup in the names"
