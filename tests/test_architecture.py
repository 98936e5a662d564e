"""The apps' one-way arrows (issue 24): computed from the source as the before-stop check does (every
folder with an apps.py is an app; an edge is an import of another app's top-level package, migrations
left out). No cycle anywhere; the ground (fileflare_admin) imports no other app; audit, a leaf, imports
only the ground."""

import ast
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
GROUND = "fileflare_admin"


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name.split(".")[0] for name in names}


def app_graph(root: Path = PROJECT) -> dict[str, set[str]]:
    """Each app and the other apps it imports."""
    apps = sorted(path.parent.name for path in root.glob("*/apps.py"))
    graph: dict[str, set[str]] = {}
    for app in apps:
        edges: set[str] = set()
        for source in (root / app).rglob("*.py"):
            if "migrations" in source.relative_to(root).parts:
                continue
            edges |= _imported(ast.parse(source.read_text(encoding="utf-8"), filename=str(source)))
        graph[app] = {other for other in edges if other in apps and other != app}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every loop of arrows, each once (as found from its first app in name order)."""
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(path: list[str]) -> None:
        for nxt in sorted(graph[path[-1]]):
            if nxt == path[0]:
                if frozenset(path) not in seen:
                    seen.add(frozenset(path))
                    found.append([*path, nxt])
            elif nxt not in path and nxt > path[0]:
                walk([*path, nxt])

    for start in sorted(graph):
        walk([start])
    return found


def test_the_graph_is_read_from_every_app() -> None:
    graph = app_graph()
    assert {GROUND, "audit", "downloads", "orders", "jobs", "orders_index", "staff", "sandbox"} <= set(graph)
    assert "audit" in graph["downloads"]  # an arrow the apps really have: the walk sees imports


def test_the_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_app_depends_on_itself_through_others() -> None:
    assert cycles(app_graph()) == []


def test_the_ground_imports_no_feature_app() -> None:
    assert app_graph()[GROUND] == set()


def test_audit_is_a_leaf_over_the_ground() -> None:
    assert app_graph()["audit"] <= {GROUND}


def _documented_arrows() -> dict[str, set[str]]:
    """docs/architecture.md's arrows as written ("`orders` → audit, downloads, …; `jobs` → …"), every app
    but the sandbox and the ground also over `fileflare_admin`."""
    text = " ".join((PROJECT / "docs" / "architecture.md").read_text(encoding="utf-8").split())
    stated = text.split("beyond that:", 1)[1].split("`fileflare_admin` and", 1)[0]
    arrows: dict[str, set[str]] = {}
    for part in stated.split(";"):
        app, _, targets = part.partition("→")
        names = targets.split("(", 1)[0].replace(".", "")
        arrows[app.strip(" `")] = {name.strip() for name in names.split(",") if name.strip()} | {GROUND}
    return arrows


def test_the_arrows_docs_architecture_states_are_the_codes() -> None:
    graph = app_graph()
    for app, targets in _documented_arrows().items():
        assert graph[app] == targets, app
    assert graph["sandbox"] == set() and graph["staff"] == graph["background"] == {GROUND}


def test_nothing_imports_insights() -> None:
    assert [app for app, targets in app_graph().items() if "insights" in targets] == []
