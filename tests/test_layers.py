"""The package layers: imports between top-level packages run one way (no cycle, imports inside
functions included), only the application imports click, and extraction and the archive do not
know each other."""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("newsarchive", "crawler", "pipelines", "browse", "bench")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (functions, conditionals, TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def module_files(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def import_graph(depth: int) -> dict[str, dict[str, list[str]]]:
    """{importer: {imported: [files]}} between packages named by their first `depth` parts."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for package in PACKAGES:
        for path in module_files(package):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            here = ".".join(parts[:depth])
            for module in imported_modules(path):
                if module.split(".")[0] not in PACKAGES:
                    continue
                there = ".".join(module.split(".")[:depth])
                if there != here and not here.startswith(there + ".") and len(parts) >= depth:
                    graph[here][there].append(str(path.relative_to(REPO)))
    return graph


def find_cycle(graph: dict[str, dict[str, list[str]]]) -> list[str] | None:
    """A cycle of the graph as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, {}):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in list(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def describe(graph: dict[str, dict[str, list[str]]], cycle: list[str]) -> str:
    steps = [
        f"{a} -> {b} ({', '.join(sorted(set(graph[a][b]))[:3])})"
        for a, b in itertools.pairwise(cycle)
    ]
    return "import cycle: " + "; ".join(steps)


def test_top_level_packages_import_one_way():
    graph = import_graph(depth=1)
    cycle = find_cycle(graph)
    assert cycle is None, describe(graph, cycle)
    # and the direction is the designed one: nothing below reaches up
    assert "newsarchive" not in {t for deps in graph.values() for t in deps} - set(
        graph.get("bench", {})
    ), {k: dict(v) for k, v in graph.items() if "newsarchive" in v}
    assert "pipelines" not in graph.get("crawler", {}), dict(graph["crawler"])
    assert "browse" not in graph.get("pipelines", {}), dict(graph["pipelines"])
    assert "bench" not in {t for deps in graph.values() for t in deps}


def test_subpackages_import_one_way():
    graph = import_graph(depth=2)
    cycle = find_cycle(graph)
    assert cycle is None, describe(graph, cycle)


def test_extraction_and_archive_do_not_know_each_other():
    graph = import_graph(depth=2)
    assert "pipelines.archive" not in graph.get("pipelines.article", {})
    assert "pipelines.article" not in graph.get("pipelines.archive", {})


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "newsarchive"])
def test_only_the_application_imports_click(package):
    users = [
        str(path.relative_to(REPO))
        for path in module_files(package)
        if any(m == "click" or m.startswith("click.") for m in imported_modules(path))
    ]
    assert users == []


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b": ["a.py"]}, "b": {"c": ["b.py"]}, "c": {"a": ["c.py"]}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": []}, "b": {}}) is None


def test_imports_inside_functions_are_seen(tmp_path, monkeypatch):
    source = tmp_path / "mod.py"
    source.write_text(
        "def f():\n    from pipelines.archive import lock\n    import browse.search\n"
    )
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    assert {"pipelines.archive", "pipelines.archive.lock", "browse.search"} <= imported_modules(
        source
    )
