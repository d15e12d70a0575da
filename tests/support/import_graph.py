"""The project's import graph measured against ARCHITECTURE.md's dependency rule.

``python -m tests.support.import_graph`` prints the module count per subpackage, the import cycles and the
imports that point up a layer; tests/test_architecture.py asserts the last two are empty. The graph is
grimp's (the one import-linter checks), with imports inside functions and under TYPE_CHECKING included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import grimp

PACKAGES = ("bot", "adapters", "storage", "prompts")

# Lowest first. A module may import its own layer and the ones below it, never one above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("bot.domain", "prompts"),
    ("storage",),
    ("bot.scoring",),
    ("bot.learning",),
    ("bot.digest",),
    ("bot.asking",),
    ("bot.chat",),
    ("adapters",),
    ("bot.bootstrap",),
    ("bot.entrypoints", "bot.__main__"),
)


def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def layer_of(module: str) -> int | None:
    for rank, packages in enumerate(LAYERS):
        if any(_within(module, p) for p in packages):
            return rank
    return None  # a package's __init__ (bot, adapters): empty, in no layer


def modules(g: grimp.ImportGraph) -> list[str]:
    return sorted(m for m in g.modules if any(_within(m, p) for p in PACKAGES))


def imports(g: grimp.ImportGraph) -> list[tuple[str, str]]:
    return sorted((m, imported) for m in modules(g) for imported in g.find_modules_directly_imported_by(m)
                  if any(_within(imported, p) for p in PACKAGES))


def upward(g: grimp.ImportGraph) -> list[tuple[str, str]]:
    """Imports whose target sits in a higher layer than the importer."""
    found = []
    for importer, imported in imports(g):
        low, high = layer_of(importer), layer_of(imported)
        if low is not None and high is not None and high > low:
            found.append((importer, imported))
    return found


def cycles(g: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan's algorithm, iteratively)."""
    edges: dict[str, list[str]] = {m: [] for m in modules(g)}
    for importer, imported in imports(g):
        edges[importer].append(imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges.get(child, []))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def subpackage(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "bot" and len(parts) > 2:
        return ".".join(parts[:2])
    if parts[0] == "adapters" and len(parts) > 2:
        return ".".join(parts[:2])
    return parts[0] if parts[0] != "bot" else module


def counts(names: Iterable[str]) -> Counter[str]:
    """Modules per subpackage; a package's own __init__ is not counted."""
    names = list(names)
    packages = {m.rsplit(".", 1)[0] for m in names if "." in m}
    return Counter(subpackage(m) for m in names if m not in packages)


def main() -> None:
    g = graph()
    names = modules(g)
    print(f"{len(names)} modules, {len(imports(g))} imports between them")
    for package, n in sorted(counts(names).items()):
        print(f"  {package:22} {n}")
    found = cycles(g)
    print(f"import cycles: {len(found)}")
    for group in found:
        print("  " + " -> ".join(group))
    arrows = upward(g)
    print(f"upward imports: {len(arrows)}")
    for importer, imported in arrows:
        print(f"  {importer} -> {imported}")


if __name__ == "__main__":
    main()
