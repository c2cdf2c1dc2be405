#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Compare the .mmap_prepare hooks of two versions of one C file.

Usage: hookcmp.py compare KERNEL CONVERTED
       hookcmp.py transplant KERNEL CONVERTED OUT HOOK

compare prints one line per file_operations of KERNEL that sets
.mmap_prepare: "like FOPS HOOK" when CONVERTED's same fops sets a hook
whose definition is KERNEL's modulo whitespace, comments and the hook's
name; "differs FOPS HOOK CONVHOOK" when it sets another; "refused FOPS
HOOK" when CONVERTED's fops still sets .mmap; "missing FOPS HOOK" when
CONVERTED has no such fops.

transplant writes KERNEL with the definition(s) of HOOK replaced by those
of CONVERTED's hook of the same fops (renamed HOOK): the converted hook in
the newer series' file, for a build check.  Used by scripts/cocci-table.
"""
import re
import sys


def strip_comments(s):
    s = re.sub(r"/\*.*?\*/", " ", s, flags=re.S)
    return re.sub(r"//[^\n]*", " ", s)


def fops(text):
    """{fops name: (field, hook)} for .mmap/.mmap_prepare fields."""
    out = {}
    t = strip_comments(text)
    for m in re.finditer(r"struct\s+file_operations\s+(\w+)\s*=\s*\{", t):
        depth, i = 1, m.end()
        while depth and i < len(t):
            depth += {"{": 1, "}": -1}.get(t[i], 0)
            i += 1
        body = t[m.end():i]
        for f in re.finditer(r"\.(mmap|mmap_prepare)\s*=\s*(\w+)", body):
            out[m.group(1)] = (f.group(1), f.group(2))
    return out


def definitions(text, name):
    """[(start, end)] of each definition of function NAME in TEXT."""
    out = []
    for m in re.finditer(r"\b%s\s*\(" % re.escape(name), text):
        # the parameter list, then a "{" (not ";" or ",")
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        j = i
        while j < len(text) and text[j] in " \t\n":
            j += 1
        if j >= len(text) or text[j] != "{":
            continue
        # the start: back to the line after the previous blank line,
        # "}", ";" or preprocessor line
        line_start = text.rfind("\n", 0, m.start()) + 1
        prev = line_start
        while prev > 0:
            pl = text.rfind("\n", 0, prev - 1) + 1
            line = text[pl:prev - 1]
            if (not line.strip() or line.rstrip().endswith((";", "}", "*/"))
                    or line.startswith("#")):
                break
            prev = pl
        start = prev
        depth, k = 1, j + 1
        while depth and k < len(text):
            depth += {"{": 1, "}": -1}.get(text[k], 0)
            k += 1
        out.append((start, k))
    return out


def norm(s, name):
    s = strip_comments(s)
    s = re.sub(r"\b%s\b" % re.escape(name), "HOOK", s)
    s = re.sub(r"\b(static|STATIC|inline|__maybe_unused)\b", "", s)
    return re.sub(r"\s+", "", s)


def body(text, name):
    return [norm(text[a:b], name) for a, b in definitions(text, name)]


def compare(kpath, cpath):
    kt, ct = open(kpath).read(), open(cpath).read()
    kf, cf = fops(kt), fops(ct)
    for name, (field, hook) in sorted(kf.items()):
        if field != "mmap_prepare":
            continue
        if name not in cf:
            print("missing", name, hook)
            continue
        cfield, chook = cf[name]
        if cfield != "mmap_prepare":
            print("refused", name, hook)
        elif body(kt, hook) == body(ct, chook) and (
                definitions(kt, hook) or hook == chook):
            print("like", name, hook)
        else:
            print("differs", name, hook, chook)


def transplant(kpath, cpath, out, hook):
    kt, ct = open(kpath).read(), open(cpath).read()
    kf, cf = fops(kt), fops(ct)
    chook = None
    for name, (field, h) in kf.items():
        if h == hook and name in cf and cf[name][0] == "mmap_prepare":
            chook = cf[name][1]
    if chook is None:
        sys.exit("hookcmp: no converted hook for %s" % hook)
    kd, cd = definitions(kt, hook), definitions(ct, chook)
    if not cd:
        # a kernel function (generic_file_mmap_prepare): the fops line
        new = re.sub(r"(\.mmap_prepare\s*=\s*)%s\b" % re.escape(hook),
                     r"\g<1>" + chook, kt)
    elif len(kd) != len(cd):
        sys.exit("hookcmp: %s: %d definitions, converted %s: %d" %
                 (hook, len(kd), chook, len(cd)))
    else:
        new, last = "", 0
        for (a, b), (c, d) in zip(kd, cd):
            new += kt[last:a]
            new += re.sub(r"\b%s\b" % re.escape(chook), hook, ct[c:d])
            last = b
        new += kt[last:]
    open(out, "w").write(new)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 6 and sys.argv[1] == "transplant":
        transplant(*sys.argv[2:])
    else:
        sys.exit(__doc__)
