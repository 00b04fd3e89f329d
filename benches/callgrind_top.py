#!/usr/bin/env python3
"""Top functions of a callgrind profile, by self cost (Ir), inlined code
counted in the function it was inlined into; and, with --files, by source
file (so inlined helpers from frame.rs, mask.rs, bytes… show up).

    callgrind_top.py callgrind.out [--base callgrind.base.out] [--top 15] [--files]

With --base (the same program run with zero measured iterations), the set-up
cost is subtracted function by function, so the table shows the steady
state only.
"""
import re
import sys
from collections import defaultdict


def parse(path, by_file):
    # fl/fi/fe/cfi/cfl share one compression table, fn/cfn another, ob/cob a third.
    files, fns, objs = {}, {}, {}
    table_of = {"fl": files, "fi": files, "fe": files, "cfi": files, "cfl": files,
                "fn": fns, "cfn": fns, "ob": objs, "cob": objs}
    cost = defaultdict(int)
    fn = fl = cur_file = None
    in_call = False
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"^(fn|fl|fi|fe|cfn|cfl|cfi|cob|ob)=(?:\((\d+)\))?\s*(.*)$", line)
            if m:
                kind, ident, name = m.groups()
                table = table_of[kind]
                if ident is not None:
                    if name:
                        table[ident] = name
                    name = table.get(ident, name)
                if kind == "fn":
                    fn = name
                elif kind == "fl":
                    fl = cur_file = name
                elif kind in ("fi", "fe"):
                    cur_file = name
                continue
            if line.startswith("calls="):
                in_call = True
                continue
            if line and (line[0].isdigit() or line[0] in "+-*"):
                parts = line.split()
                if in_call:
                    # The inclusive cost of a call: not self cost.
                    in_call = False
                    continue
                if len(parts) >= 2:
                    key = cur_file if by_file else fn
                    cost[key] += int(parts[1])
    return cost


def main():
    args = sys.argv[1:]
    top = 15
    base = None
    by_file = False
    paths = []
    i = 0
    while i < len(args):
        if args[i] == "--top":
            top = int(args[i + 1])
            i += 1
        elif args[i] == "--base":
            base = args[i + 1]
            i += 1
        elif args[i] == "--files":
            by_file = True
        else:
            paths.append(args[i])
        i += 1
    cost = parse(paths[0], by_file)
    if base:
        for k, v in parse(base, by_file).items():
            cost[k] -= v
    total = sum(v for v in cost.values() if v > 0)
    for name, v in sorted(cost.items(), key=lambda kv: -kv[1])[:top]:
        if v <= 0:
            break
        name = re.sub(r"/root/\.cargo/registry/src/[^/]+/", "", name or "?")
        name = re.sub(r"/rustc/[0-9a-f]+/library/", "std:", name)
        name = name.replace("/work/main/", "")
        print(f"{100.0 * v / total:6.2f}%  {name[:150]}")


if __name__ == "__main__":
    main()
