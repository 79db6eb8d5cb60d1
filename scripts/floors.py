#!/usr/bin/env python3
"""The floors of a crate's modules, and a check that no import runs in a circle.

Each top-level module of `src/` (a file, or a folder with its `mod.rs`) is a
node; it depends on every other top-level module it names as `crate::name`
outside comments and `#[cfg(test)]` code. A module's floor is 1 + the highest
floor it depends on (1: depends on nothing in the crate), so an import always
runs down a floor; a circle has no floors and fails the check.

    scripts/floors.py trainer/src runtime/src ...   # prints, exit 1 on a circle
"""
import os
import re
import sys


def modules(src):
    deps = {}
    for folder, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(folder, f)
            parts = os.path.relpath(path, src)[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            top = parts[0] if parts else "lib"
            with open(path, encoding="utf-8") as fh:
                text = fh.read().split("#[cfg(test)]")[0]
            text = re.sub(r"//[^\n]*", "", text)
            named = set(re.findall(r"crate::(\w+)", text))
            for group in re.findall(r"crate::\{([^}]*)\}", text):
                named.update(re.findall(r"\b(\w+)\b", group))
            deps.setdefault(top, set()).update(named - {top})
    return {m: {d for d in ds if d in deps} for m, ds in deps.items()}


def floors(graph):
    floor, circles = {}, []

    def visit(m, stack):
        if m in floor:
            return floor[m]
        if m in stack:
            circles.append(stack[stack.index(m):] + [m])
            return 0
        below = [visit(d, stack + [m]) for d in graph[m]]
        floor[m] = 1 + max(below, default=0)
        return floor[m]

    for m in sorted(graph):
        visit(m, [])
    return floor, circles


def main(srcs):
    bad = False
    for src in srcs:
        graph = modules(src)
        floor, circles = floors(graph)
        print(f"{src}: {len(graph)} modules, {max(floor.values(), default=0)} floors")
        for m in sorted(graph, key=lambda m: (floor[m], m)):
            print(f"  {floor[m]:2} {m:12} -> {', '.join(sorted(graph[m])) or '-'}")
        for c in circles:
            bad = True
            print(f"  IMPORT CIRCLE: {' -> '.join(c)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
