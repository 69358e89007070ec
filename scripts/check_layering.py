#!/usr/bin/env python3
"""Finds include and call cycles among the extension's source files.

    scripts/check_layering.py [--verbose]

Two graphs over src/*.c, one node per C file (a header counts as its .c):
  includes  a.c -> b.c when a.c, or a header a.c includes, includes b.h;
  calls     a.c -> b.c when a.o uses a symbol that b.o defines (nm, so run
            `make` first; the objects are read where make leaves them).
Prints every cycle (each strongly connected component of more than one
file) of each graph and exits 1 if there is one, 0 if the layering is a
tree.  Issue 14 asks for none; until the worker is layered, this reports
the circle of worker.c, kafka.c, sample.c and metrics*.c.  Python 3.11
standard library and binutils' nm only.
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def stem(name):
    return os.path.splitext(os.path.basename(name))[0]


def c_files():
    return sorted(f for f in os.listdir(SRC) if f.endswith(".c"))


def direct_includes(path):
    with open(path, encoding="utf-8") as f:
        return [stem(h) for h in INCLUDE.findall(f.read())
                if os.path.exists(os.path.join(SRC, os.path.basename(h)))]


def include_graph():
    """a -> b: a.c (or a header it includes, transitively) includes b.h."""
    modules = {stem(f) for f in c_files()}
    headers = {stem(f): direct_includes(os.path.join(SRC, f))
               for f in os.listdir(SRC) if f.endswith(".h")}
    graph = {}
    for c in c_files():
        module = stem(c)
        seen, todo = set(), list(direct_includes(os.path.join(SRC, c)))
        while todo:
            header = todo.pop()
            if header in seen:
                continue
            seen.add(header)
            todo.extend(headers.get(header, []))
        graph[module] = {h for h in seen if h in modules and h != module}
    return graph


def symbols(obj):
    out = subprocess.run(["nm", "--defined-only", obj], capture_output=True, text=True,
                         check=True).stdout
    defined = {line.split()[-1] for line in out.splitlines()
               if len(line.split()) == 3 and line.split()[1] in "TDBR"}
    out = subprocess.run(["nm", "--undefined-only", obj], capture_output=True, text=True,
                         check=True).stdout
    used = {line.split()[-1] for line in out.splitlines() if line.split()}
    return defined, used


def call_graph():
    """a -> b: a.o uses a symbol b.o defines."""
    objects = {}
    for c in c_files():
        obj = os.path.join(SRC, stem(c) + ".o")
        if not os.path.exists(obj):
            sys.exit(f"check_layering.py: {obj} is missing; run make first")
        objects[stem(c)] = symbols(obj)
    definer = {}
    for module, (defined, _) in objects.items():
        for symbol in defined:
            definer[symbol] = module
    return {module: {definer[s] for s in used if s in definer and definer[s] != module}
            for module, (_, used) in objects.items()}


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for next_node in sorted(graph.get(node, ())):
            if next_node not in index:
                visit(next_node)
                low[node] = min(low[node], low[next_node])
            elif next_node in on_stack:
                low[node] = min(low[node], index[next_node])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print both graphs too")
    args = parser.parse_args()

    status = 0
    for name, graph in (("includes", include_graph()), ("calls", call_graph())):
        if args.verbose:
            for module in sorted(graph):
                print(f"{name}: {module} -> {', '.join(sorted(graph[module])) or '-'}")
        found = cycles(graph)
        for component in found:
            edges = [f"{a}->{b}" for a in component for b in sorted(graph[a]) if b in component]
            print(f"{name} cycle: {' '.join(component)}  ({', '.join(edges)})")
            status = 1
        if not found:
            print(f"{name}: no cycle")
    return status


if __name__ == "__main__":
    sys.exit(main())
