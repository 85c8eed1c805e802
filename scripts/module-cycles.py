#!/usr/bin/env python3
"""Import circles between the modules of a Rust crate, outside tests.

    python3 scripts/module-cycles.py crates/core/src            # top-level modules
    python3 scripts/module-cycles.py --depth 2 src              # protocol::hub, protocol::loading, ...

Reads every `.rs` file under the source folder, finds the paths it names through `crate::`,
`super::` and `self::` (`use` trees included, `pub use` re-exports followed to the module that
defines the item), and builds the graph of modules, each cut to `--depth` segments (1: `model`,
`ntk`; 2: `ntk::memory`). It prints the circles (strongly connected groups of two or more
modules), with where each edge is used, and exits 1 when there is one, 0 when there is none.

It is approximate, on purpose (no Rust parser): comments and string literals are blanked; an item
under a `#[cfg(test)]`-like attribute (`test`, `all(test, ...)`) is test code and skipped (a
`#[cfg(test)] mod x;` skips the file of `x`); files under a `tests/` folder are skipped. A
module's own use of its submodules is containment, not an edge; paths into the crate root's own
items (`crate::block_on`) are not edges unless the root re-exports them from a module.
Python 3 standard library only.
"""

import argparse
import os
import re
import sys
from collections import defaultdict

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TEST_CFG = re.compile(r"#\[cfg\((?:all\()?test[,)]")


def blank(text):
    """`text` with comments, string and char literals replaced by spaces (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:]) and not IDENT.match(text[i - 1] if i else " "):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            j = n if end < 0 else end + 1 + len(hashes)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'":
            m = re.match(r"'(\\.|\\u\{[0-9a-fA-F]+\}|[^\\'\n])'", text[i:])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def item_end(code, start):
    """Where the item starting at `start` ends: after its `;` or its balanced `{...}`."""
    depth = 0
    for j in range(start, len(code)):
        ch = code[j]
        if ch == ";" and depth == 0:
            return j + 1
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    return len(code)


def strip_tests(code):
    """`code` without its test items, and the names of `#[cfg(test)] mod x;` declarations."""
    test_mods = []
    pos = 0
    pieces = []
    for attr in re.finditer(r"#\[cfg\(([^\]]*)\)\]", code):
        if attr.start() < pos:
            continue
        if not TEST_CFG.match(re.sub(r"\s", "", attr.group(0))):
            continue
        start = attr.end()
        # Skip further attributes on the same item.
        while True:
            m = re.match(r"\s*#\[[^\]]*\]", code[start:])
            if not m:
                break
            start += m.end()
        end = item_end(code, start)
        decl = re.match(r"\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;", code[start:end])
        if decl:
            test_mods.append(decl.group(1))
        pieces.append(code[pos : attr.start()])
        pieces.append(re.sub(r"[^\n]", " ", code[attr.start() : end]))
        pos = end
    pieces.append(code[pos:])
    return "".join(pieces), test_mods


def parse_tree(code, i):
    """The paths of the `use` tree (or plain path) at `code[i:]`, as lists of segments."""
    n = len(code)
    while i < n and code[i].isspace():
        i += 1
    if i < n and code[i] == "{":
        i += 1
        paths = []
        while i < n:
            while i < n and (code[i].isspace() or code[i] == ","):
                i += 1
            if i < n and code[i] == "}":
                return paths, i + 1
            sub, j = parse_tree(code, i)
            if j == i:  # not a path: skip to the next comma or the group's end
                depth = 0
                while j < n and not (depth == 0 and code[j] in ",}"):
                    depth += code[j] == "{"
                    depth -= code[j] == "}"
                    j += 1
            paths.extend(sub)
            i = j
        return paths, i
    if i < n and code[i] == "*":
        return [[]], i + 1
    m = IDENT.match(code, i)
    if not m:
        return [[]], i
    name, j = m.group(0), m.end()
    k = j
    while k < n and code[k].isspace():
        k += 1
    if code.startswith("::", k) and not code.startswith("::<", k):
        rest, end = parse_tree(code, k + 2)
        return [[name] + r for r in rest], end
    return [[name]], j


def module_path(rel):
    """The module path of a file relative to the source folder (`[]` for the crate root)."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", help="the crate's source folder (e.g. crates/core/src)")
    ap.add_argument("--depth", type=int, default=1, help="module path segments per node (default 1)")
    args = ap.parse_args()
    src = args.src.rstrip("/")

    files = {}
    for root, dirs, names in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d != "tests")
        for name in sorted(names):
            if name.endswith(".rs"):
                path = os.path.join(root, name)
                rel = os.path.relpath(path, src)
                code, test_mods = strip_tests(blank(open(path, encoding="utf-8").read()))
                files[rel] = (module_path(rel), code, test_mods)

    # Files that are test modules (`#[cfg(test)] mod x;`) are not part of the graph.
    test_prefixes = [mp + [t] for mp, _, tms in files.values() for t in tms]
    files = {
        rel: v
        for rel, v in files.items()
        if not any(v[0][: len(p)] == p for p in test_prefixes)
    }
    modules = {tuple(mp) for mp, _, _ in files.values()}

    # `pub use` re-exports: (module, name) -> the full path it stands for.
    reexports = {}
    for rel, (mp, code, _) in files.items():
        for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+", code):
            for p in expand(code, m.end(), mp, modules):
                if p:
                    reexports[(tuple(mp), p[-1])] = p

    def resolve(p):
        """`p` with re-exports followed, cut to the deepest known module of at most depth."""
        for _ in range(8):
            for k in range(len(p) - 1, -1, -1):
                target = reexports.get((tuple(p[:k]), p[k]))
                if tuple(p[:k]) in modules and target and target != p[: k + 1]:
                    p = target + p[k + 1 :]
                    break
            else:
                break
        best = None
        for k in range(1, min(len(p), args.depth) + 1):
            if tuple(p[:k]) in modules:
                best = tuple(p[:k])
        return best

    edges = defaultdict(list)  # (from, to) -> ["file:line", ...]
    for rel, (mp, code, _) in files.items():
        if not mp:
            continue  # the crate root declares and re-exports; it is not a node
        node = tuple(mp[: args.depth])
        for m in re.finditer(r"(?<![\w$:])(crate|super|self)\s*::", code):
            for p in expand(code, m.start(), mp, modules):
                target = resolve(p)
                if target is None or target == node:
                    continue
                if target[: len(node)] == node:
                    continue  # a module's use of its own submodules
                line = code.count("\n", 0, m.start()) + 1
                where = f"{os.path.join(src, rel)}:{line}"
                if where not in edges[(node, target)]:
                    edges[(node, target)].append(where)

    graph = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    nodes = sorted({n for e in edges for n in e} | {tuple(mp[: args.depth]) for mp, _, _ in files.values() if mp})
    groups = [g for g in sccs(nodes, graph) if len(g) > 1]

    name = "::".join
    print(f"{len(nodes)} modules (depth {args.depth}), {len(edges)} edges, {len(groups)} circle(s)")
    for g in groups:
        members = set(g)
        print(f"\ncircle: {', '.join(name(n) for n in sorted(g))}")
        for cyc in simple_cycles(sorted(g), graph, members, limit=20):
            print("  " + " -> ".join(name(n) for n in cyc + [cyc[0]]))
        for (a, b), where in sorted(edges.items()):
            if a in members and b in members:
                shown = ", ".join(where[:4]) + (f", … ({len(where)} in all)" if len(where) > 4 else "")
                print(f"    {name(a)} -> {name(b)}: {shown}")
    return 1 if groups else 0


def expand(code, i, mp, modules):
    """The absolute paths named by the path or `use` tree at `code[i:]` in module `mp`."""
    out = []
    for p in parse_tree(code, i)[0]:
        if not p:
            continue
        if p[0] == "crate":
            out.append(p[1:])
        elif p[0] in ("super", "self"):
            base = list(mp)
            while p and p[0] in ("super", "self"):
                if p[0] == "super":
                    base = base[:-1]
                p = p[1:]
            out.append(base + p)
        elif tuple(mp + [p[0]]) in modules:
            out.append(mp + p)  # `use child::…` (a submodule)
    return out


def sccs(nodes, graph):
    """Tarjan's strongly connected components."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in nodes:
        if v not in index:
            visit(v)
    return out


def simple_cycles(order, graph, members, limit):
    """Up to `limit` elementary cycles within `members`, each starting at its smallest node."""
    found = []
    for s in order:
        stack = [(s, [s])]
        while stack and len(found) < limit:
            v, path = stack.pop()
            for w in sorted(graph[v], reverse=True):
                if w not in members or w < s:
                    continue
                if w == s:
                    found.append(path)
                elif w not in path:
                    stack.append((w, path + [w]))
    return found


if __name__ == "__main__":
    sys.exit(main())
