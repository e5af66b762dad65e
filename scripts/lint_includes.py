#!/usr/bin/env python3
"""lint_includes: check the module map of docs/internals.md against the code.

Reads the layer table and the known-violations table between the
"lint_includes" markers of docs/internals.md, then scans the #include "..."
lines and the cross-file function references of src/*.c, src/*.h and
include/microbeat/*.h.  It reports:

  up       a file includes a header of, or calls a function defined in, a
           module of a higher layer;
  private  a file includes a header in src/ that belongs to another module
           (src/*.h, e.g. X_internal.h, are private to their module);
  cycle    modules that depend on each other in a ring, or files of one module
           whose functions call each other in a ring;
  deny     a dependency the table forbids although the layers allow it;
  nomodule a file that no row of the table covers.

Each problem prints one line "lint_includes: KEY: evidence"; a KEY listed in
the known-violations table is a warning, any other is an error (exit 1).
Python 3 standard library only.  Usage: lint_includes.py [--root DIR] [-v] [--refs]
(-v: the evidence of known violations too; --refs: print the cross-file
references found, "FILE DEFINING-FILE NAME" a line, and exit; --headers: print
for each include/microbeat/ header the other modules and tests that include it,
and exit: one that only its own module includes can move beside its sources)
"""
import fnmatch
import os
import re
import sys

BEGIN, END = "<!-- lint_includes:begin -->", "<!-- lint_includes:end -->"


def die(msg):
    print("lint_includes: " + msg, file=sys.stderr)
    sys.exit(2)


def table_rows(lines):
    """Cells of the markdown table rows in lines (header and rule rows dropped)."""
    rows = []
    for ln in lines:
        ln = ln.strip()
        if not ln.startswith("|"):
            continue
        cells = [c.strip() for c in ln.strip("|").split("|")]
        if all(set(c) <= set("-: ") for c in cells):
            continue
        rows.append(cells)
    return rows[1:] if rows else rows


def read_map(path):
    """The layer rows, deny rules and known keys from the marked part of path."""
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as e:
        die("cannot read '%s': %s" % (path, e.strerror))
    if BEGIN not in text or END not in text:
        die("%s: no %s ... %s section" % (path, BEGIN, END))
    part = text.split(BEGIN, 1)[1].split(END, 1)[0]
    # three tables, in order: layers, forbidden, known violations (each after a line
    # naming it, so an empty table still parses)
    tables, cur = {}, None
    for ln in part.splitlines():
        m = re.match(r"\s*\**(layers|forbidden|known)\b", ln, re.I)
        if m and not ln.lstrip().startswith("|"):
            cur = m.group(1).lower()
            tables[cur] = []
        elif cur:
            tables[cur].append(ln)
    modules = []   # (layer number, layer name, module, [patterns])
    for cells in table_rows(tables.get("layers", [])):
        if len(cells) < 3:
            die("%s: layer row needs 'layer | module | files': %s" % (path, cells))
        m = re.match(r"(\d+)\s*(.*)", cells[0])
        if not m:
            die("%s: layer '%s' does not start with a number" % (path, cells[0]))
        pats = re.findall(r"[A-Za-z0-9_*?]+", cells[2].replace("`", " "))
        modules.append((int(m.group(1)), m.group(2).strip(), cells[1].strip("` "), pats))
    deny = []      # (from module pattern, to module pattern)
    for cells in table_rows(tables.get("forbidden", [])):
        deny.append((cells[0].strip("` "), cells[1].strip("` ")))
    known = set()
    for cells in table_rows(tables.get("known", [])):
        known.add(" ".join(cells[0].strip("` ").split()))
    if not modules:
        die("%s: empty layer table" % path)
    return modules, deny, known


def module_of(stem, modules):
    """The row covering a file stem: the pattern with the longest literal part
    wins, an exact name before a pattern as long. X_internal is also tried as X
    and cmd_X, so it goes with the files split from X (X_*), else with X, else
    with the command cmd_X whose private header it is."""
    cands = [stem]
    if stem.endswith("_internal"):
        base = stem[: -len("_internal")]
        cands += [base, "cmd_" + base]
    best, rank = None, None
    for i, c in enumerate(cands):
        for row in modules:
            for p in row[3]:
                if fnmatch.fnmatchcase(c, p):
                    lit = p.replace("*", "").replace("?", "")
                    r = (len(lit), p == lit, -i)
                    if rank is None or r > rank:
                        best, rank = row, r
    return best


TOKEN = re.compile(r"[A-Za-z_]\w*|->|\S")


def strip_c(text):
    """text without comments, string and character literals and preprocessor lines
    (newlines kept, so line numbers still count)."""
    out, i, n = [], 0, len(text)
    at_line_start = True
    while i < n:
        c = text[i]
        if c == "\n":
            out.append(c)
            at_line_start = True
            i += 1
            continue
        if at_line_start and c in " \t":
            out.append(c)
            i += 1
            continue
        if at_line_start and c == "#":
            # a directive, with its continuation lines
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append("\n")
                    i += 2
                    continue
                i += 1
            continue
        at_line_start = False
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(" 0 ")
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def scan_c(text):
    """(defined, local, used, declared) for a C file: its external function and
    variable definitions, its static ones, every identifier it names outside a
    member access or struct tag, and the functions and variables it declares
    without defining."""
    toks = TOKEN.findall(strip_c(text))
    defined, local, used, declared = set(), set(), set(), set()
    depth, decl = 0, []
    for k, t in enumerate(toks):
        if t == "{":
            if depth == 0 and decl and decl[-1] == ")":
                # a function definition: the name is before the first "(" of the declarator
                name = None
                for j, d in enumerate(decl):
                    if d == "(" and j > 0 and re.match(r"[A-Za-z_]", decl[j - 1]):
                        name = decl[j - 1]
                        break
                if name and name not in ("__attribute__",):
                    (local if "static" in decl else defined).add(name)
                decl = []
            elif depth == 0:
                decl.append(t)
            depth += 1
            continue
        if t == "}":
            depth -= 1
            if depth == 0 and decl:
                decl.append(t)
            continue
        prev = toks[k - 1] if k else ""
        if depth == 0:
            if t == ";":
                var_definition(decl, defined, local, declared)
                decl = []
            else:
                decl.append(t)
        if re.match(r"[A-Za-z_]", t) and prev not in (".", "->", "struct", "union", "enum"):
            used.add(t)
    return defined, local, used, declared


def var_definition(decl, defined, local, declared):
    """Record the variable a file-scope declaration defines, or the function or
    variable it declares."""
    if not decl or decl[0] == "typedef":
        return
    # the first declarator: up to "=" or the first "," at brace depth 0
    head, d = [], 0
    for t in decl:
        if t in "{([":
            d += 1
        elif t in "})]":
            d -= 1
        if d == 0 and t in ("=", ","):
            break
        head.append(t)
    if "(" in head and "=" not in decl:
        # a prototype "f(...)", unless the first parenthesis opens a function-pointer
        # variable "(*name)(...)"
        j = head.index("(")
        if j + 2 < len(head) and head[j + 1] == "*":
            name = head[j + 2]
        else:
            if j > 0 and re.match(r"[A-Za-z_]\w*$", head[j - 1]) and head[j - 1] not in C_WORDS \
                    and "static" not in decl:
                declared.add(head[j - 1])
            return
    else:
        idents = [t for t in head if re.match(r"[A-Za-z_]\w*$", t) and t not in C_WORDS]
        if "[" in head:
            idents = [t for t in head[: head.index("[")] if re.match(r"[A-Za-z_]\w*$", t)]
        if not idents or head and head[-1] == "}":
            return   # a struct, union or enum definition only
        name = idents[-1]
    if "extern" in decl:
        declared.add(name)
    else:
        (local if "static" in decl else defined).add(name)


C_WORDS = set("""auto break case char const continue default do double else enum extern float for
goto if inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while _Bool _Thread_local _Atomic _Alignas _Noreturn""".split())

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def main(argv):
    root, verbose, refs, headers = ".", False, False, False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--root" and args:
            root = args.pop(0)
        elif a == "-v":
            verbose = True
        elif a == "--refs":
            refs = True
        elif a == "--headers":
            headers = True
        else:
            die("usage: lint_includes.py [--root DIR] [-v] [--refs | --headers]")
    modules, deny, known = read_map(os.path.join(root, "docs", "internals.md"))

    files = {}   # relative path -> text
    for d, exts in (("src", (".c", ".h")), (os.path.join("include", "microbeat"), (".h",))):
        full = os.path.join(root, d)
        for f in sorted(os.listdir(full)) if os.path.isdir(full) else []:
            if f.endswith(exts):
                files[os.path.join(d, f)] = open(os.path.join(full, f), encoding="utf-8",
                                                 errors="replace").read()
    problems = {}   # key -> first evidence

    def report(key, evidence):
        problems.setdefault(key, evidence)

    mod = {}
    for p in files:
        row = module_of(os.path.splitext(os.path.basename(p))[0], modules)
        if row is None:
            report("nomodule " + p, "%s is in no row of the layer table of docs/internals.md" % p)
        else:
            mod[p] = row

    def resolve(frm, name):
        """The project file an #include "name" in frm refers to, or None (a system header)."""
        for cand in (os.path.join(os.path.dirname(frm), name), os.path.join("include", name)):
            cand = os.path.normpath(cand)
            if cand in files:
                return cand
        return None

    def denied(a, b):
        return any(fnmatch.fnmatchcase(a[2], x) and fnmatch.fnmatchcase(b[2], y) for x, y in deny)

    medges = {}     # (module, module) -> evidence: the module graph
    fedges = {}     # (file, file) -> evidence: calls between .c files of one module

    def depend(p, q, what, implements=False):
        a, b = mod.get(p), mod.get(q)
        if a is None or b is None or a is b:
            return
        if b[0] > a[0]:
            report("up %s -> %s" % (os.path.basename(p), b[2]),
                   "%s: %s: layer %d (%s) may not use layer %d (%s)"
                   % (p, what, a[0], a[1], b[0], b[1]))
        elif denied(a, b):
            report("deny %s -> %s" % (os.path.basename(p), b[2]),
                   "%s: %s: module %s may not use module %s (forbidden table)"
                   % (p, what, a[2], b[2]))
        if not implements:
            medges.setdefault((a[2], b[2]), "%s: %s" % (p, what))

    scans = {p: scan_c(text) for p, text in files.items()}
    if headers:
        return header_users(root, files, mod, resolve)

    # 1. #include lines; including a header that declares one's own functions (cli.h
    # declares every cmd_*) is implementing that interface, not using its module
    for p, text in files.items():
        for m in INCLUDE.finditer(text):
            q = resolve(p, m.group(1))
            if q is None:
                continue
            line = text.count("\n", 0, m.start()) + 1
            what = 'line %d includes "%s"' % (line, m.group(1))
            if q.startswith("src" + os.sep) and p in mod and q in mod and mod[p] is not mod[q]:
                report("private %s -> %s" % (os.path.basename(p), os.path.basename(q)),
                       "%s: %s, private to module %s" % (p, what, mod[q][2]))
            depend(p, q, what, implements=bool(scans[p][0] & scans[q][3]))

    # 2. references from one .c file to a function or variable defined in another and
    # declared in a header it includes (directly or not): a name it only shares with
    # another file's function (a local variable, a field) is not a reference
    incl = {p: [q for q in (resolve(p, m.group(1)) for m in INCLUDE.finditer(t)) if q]
            for p, t in files.items()}

    def visible(p):
        seen, todo, names = set(), list(incl[p]), set()
        while todo:
            q = todo.pop()
            if q in seen:
                continue
            seen.add(q)
            names |= scans[q][3]
            todo += incl[q]
        return names

    owner = {}
    for p in files:
        if p.endswith(".c"):
            for name in scans[p][0]:
                owner.setdefault(name, p)
    for p, (defined, local, used, _) in scans.items():
        if not p.endswith(".c"):
            continue
        for name in sorted((used - defined - local) & visible(p)):
            q = owner.get(name)
            if q is None or q == p:
                continue
            if refs:
                print(p, q, name)
            what = "uses %s() of %s" % (name, os.path.basename(q))
            depend(p, q, what)
            if p in mod and mod.get(q) is mod[p]:
                fedges.setdefault((p, q), "%s %s" % (p, what))

    if refs:
        return 0

    # 3. rings: strongly connected components of both graphs
    for edges, kind in ((medges, "modules"), (fedges, "files")):
        for comp in sccs(edges):
            names = sorted(os.path.basename(c) for c in comp)
            ring = [edges[(a, b)] for a in sorted(comp) for b in sorted(comp) if (a, b) in edges]
            report("cycle " + " ".join(names),
                   "%s %s depend on each other: %s" % (kind, ", ".join(names), "; ".join(ring)))

    errors = 0
    for key in sorted(problems):
        if key in known:
            print("lint_includes: warning: known violation: %s%s"
                  % (key, ": " + problems[key] if verbose else ""))
            continue
        errors += 1
        print("lint_includes: %s: %s" % (key, problems[key]))
    for key in sorted(known - set(problems)):
        print("lint_includes: note: known violation '%s' is gone: delete its row in "
              "docs/internals.md" % key)
    nknown = len(known & set(problems))
    print("lint_includes: %d files, %d modules, %d error(s), %d known violation(s)"
          % (len(files), len(set(r[2] for r in mod.values())), errors, nknown))
    return 1 if errors else 0


def header_users(root, files, mod, resolve):
    """Print each public header's users outside its own module (tests included)."""
    users = {h: set() for h in files if h.startswith("include")}
    tdir = os.path.join(root, "tests")
    tests = {os.path.join("tests", f): open(os.path.join(tdir, f), encoding="utf-8",
                                             errors="replace").read()
             for f in (sorted(os.listdir(tdir)) if os.path.isdir(tdir) else []) if f.endswith(".c")}
    for p, text in list(files.items()) + list(tests.items()):
        for m in INCLUDE.finditer(text):
            q = resolve(p, m.group(1))
            if q in users and (p in tests or mod.get(p) is not mod.get(q)):
                users[q].add("tests" if p in tests else mod[p][2] if p in mod else p)
    for h in sorted(users):
        print("%s (%s): %s" % (h, mod[h][2] if h in mod else "?",
                               " ".join(sorted(users[h])) or "only its own module"))
    return 0


def sccs(edges):
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    graph = {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(comp)
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
