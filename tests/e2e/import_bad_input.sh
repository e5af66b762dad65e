#!/bin/bash
# Bad input: each case gets a one-line "microbeat: FILE:LINE:COL: problem" message, the row is
# kept in reject with its reason, and rows_read = rows_loaded + rows_duplicate + rows_rejected.
. "$(dirname "$0")/lib.sh"
H='Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context'
ID1=$(printf 'a%.0s' $(seq 64)) ID2=$(printf 'b%.0s' $(seq 64)) ID3=$(printf 'c%.0s' $(seq 64))
F='Cambridgeshire Constabulary,Cambridgeshire Constabulary'
ok1="$ID1,2024-01,$F,0.1,52.2,On or near High Street,E01018218,South Cambridgeshire 016A,Burglary,Under investigation,"
ok2="$ID2,2024-01,$F,0.2,52.3,On or near Mill Lane,E01018219,South Cambridgeshire 016B,Drugs,,"
# case NAME CONTENT(printf format) WANT_LINE WANT_COL WANT_REASON_REGEX LOADED DUP REJECTED
n=0
case_() {
  local name=$1 content=$2 line=$3 col=$4 reason=$5 loaded=$6 dup=$7 rej=$8
  n=$((n + 1))
  local f="$T/$name.csv" db="$T/$name.db"
  printf "$content" > "$f"
  mb --db "$db" import --no-progress "$f" >"$T/out" 2>"$T/err"; rc=$?
  [ "$rej" = 0 ] && [ $rc != 0 ] && fail "$name: exit $rc without rejected rows: $(cat "$T/err")"
  [ "$rej" != 0 ] && [ $rc != 3 ] && fail "$name: exit $rc, want 3 (rows rejected)"
  if [ -n "$reason" ]; then
    grep -Eq "^microbeat: $f:$line:$col: .*($reason)" "$T/err" ||
      fail "$name: want 'microbeat: $f:$line:$col: ~$reason', got: $(cat "$T/err")"
  fi
  got=$(sqlite3 "$db" "SELECT rows_loaded||' '||rows_duplicate||' '||rows_rejected||' '||
          (rows_read = rows_loaded + rows_duplicate + rows_rejected) FROM import")
  eq "$name counts (loaded dup rejected sum-ok)" "$got" "$loaded $dup $rej 1"
  kept=$(sqlite3 "$db" "SELECT count(*) FROM reject")
  eq "$name rejects kept" "$kept" "$((dup + rej))"
  ev=$(sqlite3 "$db" "SELECT count(*) FROM event")
  eq "$name events" "$ev" "$loaded"
}
case_ clean "$H\n$ok1\n$ok2\n" 0 0 "" 2 0 0
case_ crlf "$H\r\n$ok1\r\n$ok2\r\n" 0 0 "" 2 0 0
case_ bom "\xef\xbb\xbf$H\n$ok1\n" 0 0 "" 1 0 0
case_ blank_lines "$H\n\n$ok1\n\n\n$ok2\n" 0 0 "" 2 0 0
case_ no_final_newline "$H\n$ok1\n$ok2" 0 0 "" 2 0 0
case_ too_few_columns "$H\n$ok1\n$ID2,2024-01,$F,0.2,52.3\n" 3 '[0-9]+' "6 columns, expected 12" 1 0 1
case_ too_many_columns "$H\n$ok1,extra\n$ok2\n" 2 '[0-9]+' "13 columns, expected 12" 1 0 1
case_ bad_month "$H\n${ok1/2024-01/2024-13}\n$ok2\n" 2 66 "month '2024-13'" 1 0 1
case_ bad_month_text "$H\n${ok1/2024-01/Jan 2024}\n$ok2\n" 2 66 "is not YYYY-MM" 1 0 1
case_ lon_not_number "$H\n$ok1\n${ok2/0.2,/abc,}\n" 3 '[0-9]+' "longitude 'abc' is not a number" 1 0 1
case_ lat_out_of_range "$H\n${ok1/52.2/72.2}\n$ok2\n" 2 '[0-9]+' "latitude .* outside the UK" 1 0 1
case_ lon_out_of_range "$H\n${ok1/0.1,/45.1,}\n$ok2\n" 2 '[0-9]+' "longitude .* outside the UK" 1 0 1
case_ one_coord_blank "$H\n${ok1/0.1,/,}\n$ok2\n" 2 '[0-9]+' "longitude is blank but latitude is not" 1 0 1
case_ no_location_ok "$H\n$ID1,2024-01,$F,,,No location,,,Burglary,,\n" 0 0 "" 1 0 0
bad=$'\xff\xfe'
case_ invalid_utf8 "$H\n${ok1/High Street/High $bad Street}\n$ok2\n" 2 '[0-9]+' "invalid UTF-8" 1 0 1
case_ dup_crime_id "$H\n$ok1\n$ok2\n$ok1\n" 4 1 "duplicate Crime ID \\(first at line 2\\)" 2 1 0
case_ bad_crime_id "$H\nxyz${ok1:64}\n$ok2\n" 2 1 "not 64 hexadecimal" 1 0 1
# hex digits in either case are one Crime ID; each byte next to a hex range ('/' ':' '@' 'G' '`' 'g'),
# DEL, a control byte and 'ð' (UTF-8 c3 b0: valid UTF-8, and 'C0' once the top bits are dropped)
# are not hex digits, wherever they sit (the decoder takes 8 characters a step: first, middle and
# last positions of a step are tried; 'ð' replaces two characters, so the ID stays 64 bytes)
upper=$(printf 'A%.0s' $(seq 64)) lower=$(printf 'a%.0s' $(seq 64))
case_ crime_id_case "$H\n${ok1/$ID1/$upper}\n${ok1/$ID1/$lower}\n" 3 1 "duplicate Crime ID \\(first at line 2\\)" 1 1 0
for pos in 0 7 8 35 62; do
  for ch in / : @ G '`' g $'\x7f' $'\x01' $'\xc3\xb0'; do
    id="${ID1:0:pos}$ch${ID1:pos+$(printf '%s' "$ch" | wc -c)}"
    [ "$(printf '%s' "$id" | wc -c)" = 64 ] || fail "hex case: the ID is not 64 bytes"
    printf '%s\n%s\n' "$H" "${ok1/$ID1/$id}" > "$T/hex.csv"
    mb --db "$T/hex.db" import --no-progress "$T/hex.csv" >/dev/null 2>"$T/err"
    got=$(sqlite3 "$T/hex.db" "SELECT rows_loaded || ' ' || rows_rejected FROM import")
    eq "Crime ID with byte $(printf '%s' "$ch" | od -An -tx1 | tr -d ' ') at $pos (loaded rejected)" "$got" "0 1"
    rm -f "$T"/hex.db*
  done
done
# a file ending inside a quoted field is cut: refused whole (issue 21.1), loaded as it is with --replace
printf "$H\n$ok1\n$ID2,2024-01,$F,0.2,52.3,\"On or near Mill Lane,E01018219\n" > "$T/uq.csv"
mb --db "$T/uq.db" import --no-progress "$T/uq.csv" >"$T/out" 2>"$T/err"
eq "unterminated_quote_eof exit" "$?" 3
grep -q "^microbeat: $T/uq.csv:3:[0-9]*: the file ends mid-row" "$T/err" || fail "unterminated_quote_eof: $(cat "$T/err")"
eq "unterminated_quote_eof nothing stored" "$(sqlite3 "$T/uq.db" "SELECT count(*) FROM import")" 0
mb --db "$T/uq.db" import --no-progress --replace "$T/uq.csv" >"$T/out" 2>"$T/err"
grep -q "^microbeat: $T/uq.csv:3:[0-9]*: unterminated quoted field" "$T/err" || fail "unterminated_quote_eof --replace: $(cat "$T/err")"
eq "unterminated_quote_eof counts" "$(sqlite3 "$T/uq.db" "SELECT rows_loaded||' '||rows_duplicate||' '||rows_rejected FROM import")" "1 0 1"
case_ bad_quote_midfile "$H\n$ID3,2024-01,$F,0.2,52.3,On \"or\" near,E01018219,x,Drugs,,\n$ok1\n" 2 '[0-9]+' "malformed quoting" 1 0 1
case_ quoted_comma_ok "$H\n$ID1,2024-01,$F,0.1,52.2,On or near High Street,E01018218,\"Bournemouth, Christchurch and Poole 001A\",Burglary,,\n" 0 0 "" 1 0 0
case_ asb_blank_id_ok "$H\n,2024-01,$F,0.1,52.2,On or near High Street,E01018218,x,Anti-social behaviour,,\n,2024-01,$F,0.1,52.2,On or near High Street,E01018218,x,Anti-social behaviour,,\n" 0 0 "" 2 0 0
# a field over 64 KiB
big=$(head -c 70000 /dev/zero | tr '\0' 'x')
case_ field_over_64k "$H\n$ok1\n$ID2,2024-01,$F,0.2,52.3,On or near $big,E01018219,x,Drugs,,\n$ID3,2024-01,$F,0.2,52.3,On or near Elm Road,E01018219,x,Drugs,,\n" 3 '[0-9]+' "field longer than 65536 bytes" 2 0 1
# a multi-line quoted field keeps line numbers right for what follows
case_ multiline_then_bad "$H\n$ID1,2024-01,$F,0.1,52.2,\"On or near\nHigh Street\",E01018218,x,Burglary,,\n${ok2/2024-01/2024-00}\n" 4 66 "month '2024-00'" 1 0 1
# line breaks inside a malformed row's earlier fields count too (the row is skipped mid-way)
case_ multiline_malformed_then_bad "$H\n$ID3,2024-01,$F,0.2,52.3,\"On or\nnear the long\nroad\",E01018219,x \"y\",Drugs,,\n${ok2/2024-01/2024-00}\n" 5 66 "month '2024-00'" 0 0 2

# whole-file problems: message naming the file, nothing loaded, other files go on
printf '' > "$T/empty.csv"
printf '%s\n' "$H" > "$T/header_only.csv"
head -c 3000 /dev/urandom > "$T/garbage.csv"
printf 'a,b,c\n1,2,3\n' > "$T/unknown.csv"
printf '%s\n%s\n' "$H" "$ok1" > "$T/good.csv"
mb --db "$T/w.db" import --no-progress "$T/empty.csv" "$T/garbage.csv" "$T/unknown.csv" "$T/header_only.csv" "$T/good.csv" >"$T/out" 2>"$T/err"; rc=$?
eq "whole-file exit" "$rc" 3
grep -q "^microbeat: $T/empty.csv:1:1: empty file" "$T/err" || fail "empty file message: $(cat "$T/err")"
grep -Eq "^microbeat: $T/garbage.csv:[0-9]+:[0-9]+: (unknown|unreadable) header" "$T/err" || fail "garbage message: $(cat "$T/err")"
grep -q "^microbeat: $T/unknown.csv:1:1: unknown header (3 columns" "$T/err" || fail "unknown header message"
eq "events after skipped files" "$(sqlite3 "$T/w.db" 'SELECT count(*) FROM event')" 1
eq "imports recorded (header-only + good)" "$(sqlite3 "$T/w.db" 'SELECT count(*) FROM import')" 2
grep -q "header_only.csv: import #[0-9]*, street: 0 rows read" "$T/out" || fail "header-only summary: $(cat "$T/out")"
# a new store has 16 KB pages; a store made with 4 KB pages (an earlier microbeat's) keeps them
# and imports into it as well (its checkpoints count frames of its own page size)
printf "$H\n$ok1\n$ok2\n" > "$T/pg.csv"
mb --db "$T/pg16.db" import --no-progress --quiet "$T/pg.csv" || fail "page size: new store exit $?"
eq "new store page size" "$(sqlite3 "$T/pg16.db" 'PRAGMA page_size')" 16384
sqlite3 "$T/pg4.db" 'PRAGMA page_size=4096; VACUUM' || fail "cannot make a 4 KB store"
mb --db "$T/pg4.db" import --no-progress --quiet "$T/pg.csv" || fail "page size: 4 KB store exit $?"
eq "4 KB store keeps its pages" "$(sqlite3 "$T/pg4.db" 'PRAGMA page_size')" 4096
eq "4 KB store events" "$(sqlite3 "$T/pg4.db" 'SELECT count(*) FROM event')" 2
echo "$n row cases + whole-file cases passed"
