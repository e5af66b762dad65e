#!/bin/bash
# Issue 21 item 16: the README's first command works as root (a container's root shell has no
# sudo: "sudo: command not found") and as a user (apt-get through sudo). The command is taken
# from the README's first ```sh block and run with apt-get, sudo, id and make replaced by stubs
# on PATH that record their calls: as root, apt-get runs directly and sudo is never called (the
# stub sudo fails like a missing one); as uid 1000, apt-get runs through sudo; make demo runs
# after setup in both. A stub dpkg-query says the packages are missing; when it says every one
# is installed, setup runs neither apt-get nor sudo (a user without sudo goes on); missing
# packages and no working sudo for a user stop before make, saying why.
. "$(dirname "$0")/lib.sh"
cmd=$(awk '/^```sh/{f=1; next} f{print; exit}' "$MB_ROOT/README.md" | sed 's/[[:space:]]*#.*$//')
[ -n "$cmd" ] || fail "no first command in the README"
case $cmd in sudo*) fail "the README's first command starts with sudo: '$cmd'" ;; esac
S=$T/stubs; mkdir -p "$S"
for t in apt-get make; do
  printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n' "$t" "$T" >"$S/$t"
done
cat >"$S/id" <<EOS
#!/bin/sh
[ "\$1" = -u ] && { cat "$T/uid"; exit 0; }
exec /usr/bin/id "\$@"
EOS
chmod +x "$S"/*
installed() { # 0 or 1: what the stub dpkg-query says of every package
  if [ "$1" = 1 ]; then
    printf '#!/bin/sh\nprintf "install ok installed"\n' >"$S/dpkg-query"
  else
    printf '#!/bin/sh\nexit 1\n' >"$S/dpkg-query"
  fi
  chmod +x "$S/dpkg-query"
}
installed 0
run_as() { # UID SUDO-PRESENT: run the command; the calls it made are in $T/calls
  echo "$1" >"$T/uid"; : >"$T/calls"
  if [ "$2" = 1 ]; then
    printf '#!/bin/sh\necho "sudo $*" >>"%s/calls"\nexec "$@"\n' "$T" >"$S/sudo"
  else
    printf '#!/bin/sh\necho "sudo: command not found" >&2\nexit 127\n' >"$S/sudo"
  fi
  chmod +x "$S/sudo"
  (cd "$MB_ROOT" && PATH="$S:$PATH" bash -c "$cmd") >"$T/out" 2>&1
}
run_as 0 0; rc=$?
eq "as root without sudo: exit ($(cat "$T/out"))" "$rc" 0
grep -q '^sudo' "$T/calls" && fail "as root, sudo was called: $(cat "$T/calls")"
grep -q '^apt-get install' "$T/calls" || fail "as root, apt-get install not run: $(cat "$T/calls")"
eq "as root, make demo last" "$(tail -n 1 "$T/calls")" "make demo"
run_as 1000 1; rc=$?
eq "as a user: exit ($(cat "$T/out"))" "$rc" 0
grep -q '^sudo apt-get install' "$T/calls" || fail "as a user, apt-get not run through sudo: $(cat "$T/calls")"
eq "as a user, make demo last" "$(tail -n 1 "$T/calls")" "make demo"
run_as 1000 0; rc=$?
[ "$rc" -ne 0 ] || fail "as a user without sudo, packages missing: exit 0 ($(cat "$T/out"))"
grep -q "missing: .*libcsv-dev\|sudo: command not found" "$T/out" || fail "no reason given: $(cat "$T/out")"
grep -q '^make' "$T/calls" && fail "make ran after a failed setup: $(cat "$T/calls")"
installed 1
run_as 1000 0; rc=$?
eq "as a user without sudo, packages installed: exit ($(cat "$T/out"))" "$rc" 0
grep -q '^apt-get\|^sudo' "$T/calls" && fail "packages installed, yet: $(cat "$T/calls")"
eq "packages installed: make demo alone" "$(cat "$T/calls")" "make demo"
echo "README's first command ('$cmd') works as root without sudo and as a user with sudo"
