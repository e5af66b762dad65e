#!/bin/bash
# Issue 18 item 4: a command's charts are drawn together (two gnuplot processes, each drawing
# many charts) and --charts png|svg|both picks the files. Synthetic police.uk files: 24 months,
# six crime types. Checks: trends --by type draws every chart it writes a script for, each
# file byte-identical (cmp) to the one gnuplot itself draws running that chart's NAME.gp alone
# in a copy of the folder (the reference: one chart, one process, the environment microbeat
# gives gnuplot); --charts png writes .png only, svg .svg only (the same bytes as with both),
# --no-charts neither; concentration's and deepdive's charts likewise (deepdive.md links the
# SVG); a broken chart script (MB_PLOTS pointing to a copy of plots/ whose yoy.gp is invalid)
# fails the command naming that chart and leaves no --out folder; assess refuses --charts png
# (report.html inlines SVG).
. "$(dirname "$0")/lib.sh"
command -v gnuplot >/dev/null || skip "gnuplot missing: no chart drawn"
command -v cmp >/dev/null || skip "cmp missing"
types="Burglary Robbery Shoplifting Drugs Vehicle-crime Arson"
for m in $(seq 0 23); do
  y=$((2024 + m / 12)); mo=$(printf %02d $((m % 12 + 1))); d="$T/p/$y-$mo"; mkdir -p "$d"
  f="$d/$y-$mo-testforce-street.csv"
  echo "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context" > "$f"
  k=0
  for t in $types; do
    k=$((k + 1))
    for i in $(seq 1 $((5 * k + (m * k) % 7))); do
      printf '%064x,%s,Test Police,Test Police,0.1%d,52.2,On or near Street %d,E01000001,Testshire 001A,%s,,\n' \
        $((m * 10000 + k * 100 + i)) "$y-$mo" $((i % 9)) $((i % 13)) "${t//-/ }" >> "$f"
    done
  done
done
mb --db "$T/t.db" import --quiet "$T/p" 2> "$T/ie" || fail "import exit $?: $(cat "$T/ie")"
sel=(--from 2024-01 --to 2025-12)
mb --db "$T/t.db" trends "${sel[@]}" --by type --out "$T/both" > /dev/null 2> "$T/e" ||
  fail "trends exit $?: $(cat "$T/e")"

# every chart of the folder drawn, and equal to gnuplot's own lone drawing
cd "$T/both" || fail "cd"
ls ./*.gp > /dev/null 2>&1 || fail "no chart script written"
mkdir "$T/ref"; cp ./*.gp ./*.dat "$T/ref/"
n=0
for gp in *.gp; do
  c=${gp%.gp}
  for f in png svg; do
    [ -s "$c.$f" ] || fail "$c.$f not drawn"
    (cd "$T/ref" && env -i PATH=/usr/bin:/bin LC_ALL=C.UTF-8 HOME=/nonexistent \
      gnuplot -e "fmt='$f'" "$gp" 2> /dev/null) || fail "gnuplot alone failed on $gp"
    cmp -s "$c.$f" "$T/ref/$c.$f" || fail "$c.$f differs from gnuplot's lone drawing of $gp"
    n=$((n + 1))
  done
done
[ "$n" -ge 16 ] || fail "only $n chart files (want the total, six types, yoy, seasonal: 2 x 9)"
cd "$T" || fail "cd"

# --charts png / svg / --no-charts: only those files, the same bytes
for f in png svg; do
  mb --db "$T/t.db" trends "${sel[@]}" --by type --charts $f --out "$T/$f" > /dev/null 2> "$T/e" ||
    fail "trends --charts $f exit $?: $(cat "$T/e")"
  o=$([ $f = png ] && echo svg || echo png)
  [ -z "$(ls "$T/$f" | grep "\.$o\$")" ] || fail "--charts $f wrote .$o files"
  eq "--charts $f: scripts" "$(ls "$T/$f" | grep -c '\.gp$')" "$(ls "$T/both" | grep -c '\.gp$')"
  for gp in "$T/$f"/*.gp; do
    c=$(basename "${gp%.gp}")
    cmp -s "$T/$f/$c.$f" "$T/both/$c.$f" || fail "--charts $f: $c.$f differs from --charts both"
  done
done
mb --db "$T/t.db" trends "${sel[@]}" --by type --no-charts --out "$T/none" > /dev/null || fail "--no-charts"
[ -z "$(ls "$T/none" | grep -E '\.(png|svg)$')" ] || fail "--no-charts drew charts"
mb --db "$T/t.db" trends "${sel[@]}" --by type --charts gif --out "$T/gif" > /dev/null 2> "$T/e"
eq "--charts gif exit" "$?" 2
grep -q "charts wants png, svg or both" "$T/e" || fail "--charts gif message: $(cat "$T/e")"

# concentration (its own two charts) with --charts svg
mb --db "$T/t.db" concentration "${sel[@]}" --charts svg --out "$T/conc" > /dev/null 2> "$T/e" ||
  fail "concentration exit $?: $(cat "$T/e")"
for c in lorenz hot_streets; do
  [ -s "$T/conc/$c.svg" ] && [ ! -e "$T/conc/$c.png" ] || fail "concentration --charts svg: $c"
done

# deepdive --charts svg: SVG only, and deepdive.md links the SVG
mb --db "$T/t.db" deepdive --area Testshire --from 2025-01 --to 2025-12 --charts svg --out "$T/dd" \
  > /dev/null 2> "$T/e" || fail "deepdive exit $?: $(cat "$T/e")"
[ -s "$T/dd/monthly.svg" ] && [ -z "$(ls "$T/dd" | grep '\.png$')" ] || fail "deepdive --charts svg files"
grep -q '!\[Crimes per month\](monthly.svg)' "$T/dd/deepdive.md" || fail "deepdive.md does not link monthly.svg"
grep -q '\.png)' "$T/dd/deepdive.md" && fail "deepdive.md links a PNG not drawn"

# a broken chart script fails the command, naming the chart; the folder is not written
cp -r "$MB_ROOT/plots" "$T/plots"
printf '\nplot no_such_variable_here\n' >> "$T/plots/yoy.gp"
MB_PLOTS="$T/plots" mb --db "$T/t.db" trends "${sel[@]}" --by type --out "$T/broken" > /dev/null 2> "$T/e"
rc=$?
[ "$rc" -ne 0 ] || fail "a broken yoy.gp did not fail the command"
grep -q "gnuplot failed on '.*/yoy.gp': \"yoy.gp\" line [0-9]*: undefined variable: no_such_variable_here" \
  "$T/e" || fail "the error does not name yoy.gp: $(cat "$T/e")"
[ ! -e "$T/broken" ] || fail "the --out folder was written despite the failed chart"

# assess --charts svg: the same SVG charts as the default pack, no PNG (and steps run with
# --no-charts stay without charts)
mb --db "$T/t.db" assess --out "$T/pa" > /dev/null 2> "$T/e" || fail "assess exit $?: $(cat "$T/e")"
mb --db "$T/t.db" assess --charts svg --out "$T/pb" > /dev/null 2> "$T/e" ||
  fail "assess --charts svg exit $?: $(cat "$T/e")"
[ -z "$(find "$T/pb" -name '*.png')" ] || fail "assess --charts svg drew PNG files"
eq "assess svg charts" "$(cd "$T/pb" && find . -name '*.svg' | sort)" "$(cd "$T/pa" && find . -name '*.svg' | sort)"
for f in $(cd "$T/pb" && find . -name '*.svg'); do
  cmp -s "$T/pa/$f" "$T/pb/$f" || fail "assess --charts svg: $f differs"
done
mb --db "$T/t.db" assess --charts png --out "$T/pack" > /dev/null 2> "$T/e"
eq "assess --charts png exit" "$?" 2
grep -q "svg or both" "$T/e" || fail "assess --charts png message: $(cat "$T/e")"
echo ok
