"""No two parts of claw_ta import each other (the developers' guide: "no two modules that import each other").

The import graph is read from the source (every ``import`` and ``from ...
import`` statement, including those inside functions, since a lazy import is
still a dependency). Importing ``claw_ta.a.b`` also imports the package
``claw_ta.a`` (its ``__init__``), so an edge to a module is an edge to each
package above it (except the importer's own parents, imported before it). Two checks:

- modules: the graph has no cycle at all;
- subpackages (``claw_ta.review``, ``claw_ta.feedback``, ...; a top-level module
  is its own part): the graph collapsed to them has no cycle either, so the
  review endpoint and the alert action never depend on each other both ways
  (what both need, the decision and proposal records, lives in
  ``claw_ta.records``, below both).
"""
import ast
import os

from tests import paths

PACKAGE = os.path.join(paths.APP, "bin", "claw_ta")


def module_name(path):
    rel = os.path.relpath(path, os.path.dirname(PACKAGE))[:-3].split(os.sep)
    if rel[-1] == "__init__":
        rel = rel[:-1]
    return ".".join(rel)


def modules():
    found = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                found[module_name(path)] = path
    return found


def imports_of(path, name, known):
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    is_package = path.endswith("__init__.py")
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".")
                anchor = parts if is_package else parts[:-1]
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets.add(base)
            targets.update(base + "." + a.name for a in node.names)  # "from pkg import module"
    edges = set()
    for target in targets:
        parts = target.split(".")
        for end in range(1, len(parts) + 1):  # the module and every package above it
            candidate = ".".join(parts[:end])
            if candidate in known and candidate != name and not name.startswith(candidate + "."):
                edges.add(candidate)  # a module's own parent packages are imported before it runs
    return edges


def graph():
    known = modules()
    return {name: imports_of(path, name, known) for name, path in known.items()}


def cycles(edges):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return out


def part(name):
    parts = name.split(".")
    return ".".join(parts[:2])


def test_the_graph_sees_the_imports_it_must():
    edges = graph()
    assert "claw_ta.feedback.transport" in edges["claw_ta.review.endpoint"]
    assert "claw_ta.records" in edges["claw_ta.feedback.splunkd"]


def test_no_two_modules_import_each_other():
    assert cycles(graph()) == []


def test_no_two_parts_of_claw_ta_import_each_other():
    collapsed = {}
    for name, targets in graph().items():
        collapsed.setdefault(part(name), set()).update(part(t) for t in targets if part(t) != part(name))
    assert cycles(collapsed) == []
    assert "claw_ta.review" not in collapsed["claw_ta.feedback"]


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
