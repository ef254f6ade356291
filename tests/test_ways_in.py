"""One way into a session: Flask-Login's ``login_user`` is reached only through the gates.

Read from the source with ``ast``, not run: a new authentication pathway (a view, a hook,
a command) that puts a user in the session without passing through a gate fails this test
before it ever serves a request (ASVS 6.3.4).
"""

import ast
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import loginflow

PACKAGE = Path(loginflow.__file__).parent
LOGIN_USER = "flask_login.login_user"

# Every way into a signed-in session, each a function that all pathways of its kind pass
# through, so none can skip a step. A new way in goes through one of them, or is added here.
SESSION_GATES = {
    "auth._start_session": "a password typed (sign-in, sign-up, a password change's new "
    "sign-in) or a remember cookie redeemed: the session cleared, then login_user",
    "freshness.reauthenticate": "the password typed again on /reauth: a new session token "
    "on the same sign-in",
    "freshness.catch_up": "a session token that /reauth replaced at most "
    "REMEMBER_ME_ROTATION_GRACE ago: the same sign-in's current token, not fresh",
}


@dataclass
class CallGraph:
    """Which function of a package refers to which (a call, or passing it on), by name."""

    functions: set[str] = field(default_factory=set)
    refers_to: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def referred_by(self) -> dict[str, set[str]]:
        callers: dict[str, set[str]] = defaultdict(set)
        for caller, callees in self.refers_to.items():
            for callee in callees:
                callers[callee].add(caller)
        return callers

    def reaches(self, start: str, target: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == target:
                return True
            if node not in seen:
                seen.add(node)
                todo += self.refers_to.get(node, ())
        return False


def call_graph(package: Path) -> CallGraph:
    """Every function of every module under ``package``, and what each refers to.

    Names are ``module.function`` (``auth._start_session``); what a module's top level
    refers to belongs to ``module.<module>``. Imported names and modules are followed,
    aliases included, so ``from flask_login import login_user as enter`` is still it.
    """
    graph = CallGraph()
    for path in sorted(package.rglob("*.py")):
        module = ".".join(path.relative_to(package).with_suffix("").parts)
        _Module(module, graph).visit(ast.parse(path.read_text(encoding="utf-8")))
    return graph


class _Module(ast.NodeVisitor):
    def __init__(self, module: str, graph: CallGraph) -> None:
        self.module, self.graph = module, graph
        self.names: dict[str, str] = {}  # a name in this module → what it stands for
        self.scope = [f"{module}.<module>"]

    def visit_Module(self, node: ast.Module) -> None:
        # Functions first, so a reference above a definition resolves too.
        for statement in node.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.names[statement.name] = f"{self.module}.{statement.name}"
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.names[alias.asname or alias.name.split(".")[0]] = (
                alias.name if alias.asname else alias.name.split(".")[0]
            )

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        source = node.module or ""
        if node.level:  # relative: within the package
            package = self.module.split(".")[: -node.level]
            source = ".".join([*package, *([source] if source else [])])
        elif source == "loginflow" or source.startswith("loginflow."):
            source = source.removeprefix("loginflow").lstrip(".")
        for alias in node.names:
            self.names[alias.asname or alias.name] = f"{source}.{alias.name}".lstrip(".")

    def visit_FunctionDef(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    ) -> None:
        outer = self.scope[-1] if len(self.scope) > 1 else self.module
        name = f"{outer}.{node.name}"
        self.graph.functions.add(name)
        if len(self.scope) > 1:  # a function defined in another (or a method) belongs to it
            self.graph.refers_to[self.scope[-1]].add(name)
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.scope.append(name)
        for statement in node.body:
            self.visit(statement)
        self.scope.pop()

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and node.id in self.names:
            self.graph.refers_to[self.scope[-1]].add(self.names[node.id])

    def visit_Attribute(self, node: ast.Attribute) -> None:
        parts, target = [node.attr], node.value
        while isinstance(target, ast.Attribute):
            parts.insert(0, target.attr)
            target = target.value
        if isinstance(target, ast.Name) and target.id in self.names:
            full = ".".join([self.names[target.id], *parts])
            self.graph.refers_to[self.scope[-1]].add(full)
        self.generic_visit(node)


def ungated_ways_in(graph: CallGraph, gates: set[str]) -> list[str]:
    """Each chain from something nothing in the package calls (a view, a hook, a command,
    a module's top level) to ``login_user`` that passes through no gate."""
    callers = graph.referred_by()
    found, todo = [], [[LOGIN_USER]]
    while todo:
        chain = todo.pop()
        for caller in sorted(callers.get(chain[0], ())):
            if caller in gates or caller in chain:
                continue
            longer = [caller, *chain]
            (todo if callers.get(caller) else found).append(longer)
    return sorted(" -> ".join(chain) for chain in found)


def test_every_way_into_a_session_passes_through_a_documented_gate() -> None:
    graph = call_graph(PACKAGE)
    gates = set(SESSION_GATES)
    assert ungated_ways_in(graph, gates) == []
    # Each gate is there and leads in: the list holds no name that a rename left behind.
    assert [gate for gate in sorted(gates) if not graph.reaches(gate, LOGIN_USER)] == []


# The check itself, on a made-up package: each way around the gate is found.

GATE = """
from flask_login import login_user


def _start_session(user):
    login_user(user)


def sign_in_view():
    _start_session("alice")
"""
HELPER = """
import flask_login


def put(user):
    flask_login.login_user(user)
"""


@pytest.mark.parametrize(
    ("views", "found"),
    [
        ("def index():\n    return 'hello'\n", []),
        (
            "from flask_login import login_user\ndef backdoor():\n    login_user('mallory')\n",
            ["views.backdoor -> flask_login.login_user"],
        ),
        (
            "from flask_login import login_user as enter\ndef quiet():\n    enter('mallory')\n",
            ["views.quiet -> flask_login.login_user"],
        ),
        (
            "import flask_login\ndef spelled_out():\n    flask_login.login_user('mallory')\n",
            ["views.spelled_out -> flask_login.login_user"],
        ),
        (
            "from flask_login import login_user\nhandler = login_user\n",
            ["views.<module> -> flask_login.login_user"],
        ),
        (
            "class Views:\n    def enter(self):\n        import flask_login\n"
            "        flask_login.login_user('mallory')\n",
            ["views.Views -> views.Views.enter -> flask_login.login_user"],
        ),
        (
            "from . import helpers\ndef via_helper():\n    helpers.put('mallory')\n",
            ["views.via_helper -> helpers.put -> flask_login.login_user"],
        ),
        (
            "from .auth import _start_session\ndef through_it():\n    _start_session('bob')\n",
            [],
        ),
    ],
)
def test_a_way_into_a_session_around_the_gate_is_found(
    tmp_path: Path, views: str, found: list[str]
) -> None:
    (tmp_path / "auth.py").write_text(GATE)
    (tmp_path / "views.py").write_text(views)
    if "helpers" in views:
        (tmp_path / "helpers.py").write_text(HELPER)
    assert ungated_ways_in(call_graph(tmp_path), {"auth._start_session"}) == found
