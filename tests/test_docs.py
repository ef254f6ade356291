"""README.md and SECURITY.md lead somewhere: every relative link and anchor resolves, and
every command they show is one the project has (tests/docs.py says how each is read)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import MakeApp
from .docs import (
    PROJECT_ROOT,
    Project,
    command_lines,
    command_problems,
    flask_commands,
    link_problems,
)
from .makefile import read_makefile
from .markdown import anchors, links, read_markdown

# About the pages, not the database.
pytestmark = pytest.mark.sqlite_only

PAGES = ["README.md", "SECURITY.md"]


@pytest.fixture
def project(make_app: MakeApp) -> Iterator[Project]:
    """The project as the pages' commands meet it: its Makefile and its app's commands."""
    makefile = read_makefile((PROJECT_ROOT / "Makefile").read_text(encoding="utf-8"))
    with flask_commands(make_app()) as flask:
        yield Project(makefile, flask)


def page(name: str) -> Path:
    """The page at the repository's root; missing is a failure: it is meant to be there."""
    path = PROJECT_ROOT / name
    assert path.is_file(), f"{name} is missing at the repository's root"
    return path


@pytest.mark.parametrize("name", PAGES)
def test_every_relative_link_and_anchor_of_the_page_resolves(name: str) -> None:
    problems = link_problems(page(name))
    assert not problems, "\n".join(["Links that lead nowhere:", *problems])


@pytest.mark.parametrize("name", PAGES)
def test_every_command_the_page_shows_exists(name: str, project: Project) -> None:
    problems = command_problems(page(name), project)
    assert not problems, "\n".join(["Commands that do not exist:", *problems])


# The checks themselves, on made-up pages: each fault is reported, and nothing else is.

GOOD_PAGE = """\
# A page

![A picture](picture.png) and <img src="picture.png"> and [the other page](other.md).

Running it
----------

See [Running it](#running-it), [the second one](#running-it-1), [there](other.md#elsewhere),
[a folder](sub/), [from the root](/other.md), [a line](sub/code.py#L2), [top](#),
[a reference][ref], <a href="#kept">kept</a>, <a id="kept"></a> and [the web](https://x.org).
Code is not a link: `[no](missing.md)`, and no anchor either: `## Not a heading`.
```[no](missing.md)``` is inline code too, not a fence; <!-- [no](missing.md) -->

## Running it

```sh
make test-unit
PORT=8000 make run   # another port
make lock LOCK_ARGS='--upgrade-package flask' && make .venv-3.12/.installed-test
make
echo "$PASSWORD" | .venv/bin/flask --app loginflow create-user bob
flask --app loginflow db upgrade
flask --app loginflow sign-ins purge \\
  --older-than=30
.venv/bin/pytest tests -p no:playwright
python -m e2e.browser
.venv/bin/python -c 'import secrets; print(1)'
```

```console
$ make capacity
some output that is not a command
```

```
machine: output, not commands
frobnicate --everything
```

```text
[no](missing.md)
# Not a heading
frobnicate
```

Run `make test` or `make test-pythons PYTHON_VERSIONS=3.13`; `frobnicate` is prose.

[ref]: other.md
"""

OTHER_PAGE = "# Elsewhere\n"


def write_pages(folder: Path, text: str) -> Path:
    """The page ``text`` as README.md in ``folder``, beside the files its links name."""
    (folder / "other.md").write_text(OTHER_PAGE)
    (folder / "picture.png").write_bytes(b"")
    (folder / "sub").mkdir()
    (folder / "sub" / "code.py").write_text("one\ntwo\n")
    path = folder / "README.md"
    path.write_text(text)
    return path


def test_the_good_page_is_read_whole() -> None:
    """Without this, "no problems" could mean that nothing was read."""
    page = read_markdown(GOOD_PAGE)
    found, undefined = links(page)
    assert [(link.line, link.target) for link in found] == [
        (3, "picture.png"),
        (3, "picture.png"),
        (3, "other.md"),
        (8, "#running-it"),
        (8, "#running-it-1"),
        (8, "other.md#elsewhere"),
        (9, "sub/"),
        (9, "/other.md"),
        (9, "sub/code.py#L2"),
        (9, "#"),
        (10, "#kept"),
        (10, "https://x.org"),
        (48, "other.md"),
    ]
    assert undefined == []
    assert anchors(page) == {"a-page", "running-it", "running-it-1", "kept"}
    assert list(command_lines(page)) == [
        (17, "make test-unit"),
        (18, "PORT=8000 make run   # another port"),
        (19, "make lock LOCK_ARGS='--upgrade-package flask' && make .venv-3.12/.installed-test"),
        (20, "make"),
        (21, 'echo "$PASSWORD" | .venv/bin/flask --app loginflow create-user bob'),
        (22, "flask --app loginflow db upgrade"),
        (23, "flask --app loginflow sign-ins purge \n  --older-than=30"),
        (25, ".venv/bin/pytest tests -p no:playwright"),
        (26, "python -m e2e.browser"),
        (27, ".venv/bin/python -c 'import secrets; print(1)'"),
        (31, "make capacity"),
        (46, "make test"),
        (46, "make test-pythons PYTHON_VERSIONS=3.13"),
    ]


def test_links_are_found_in_tables_and_after_code_that_wraps_a_line() -> None:
    """Each on its own line; a link in an indented code block is code, not a link."""
    page = read_markdown(
        "| Page | Run |\n|---|---|\n| [other](other.md) | `make test` |\n\n"
        "Run `make\nlint`, then\nread [this](this.md).\n\n    [code](missing.md)\n"
    )
    assert [(link.line, link.target) for link in links(page)[0]] == [
        (3, "other.md"),
        (7, "this.md"),
    ]
    assert page.code_spans() == [(3, "make test"), (5, "make lint")]


def test_a_good_page_has_no_link_problems(tmp_path: Path) -> None:
    assert link_problems(write_pages(tmp_path, GOOD_PAGE), root=tmp_path) == []


def test_a_good_page_has_no_command_problems(tmp_path: Path, project: Project) -> None:
    assert command_problems(write_pages(tmp_path, GOOD_PAGE), project) == []


# A line of a page, and what is reported about it.
BROKEN_LINKS = {
    "missing-file": ("[x](missing.md)", "missing.md: no such file or folder"),
    "missing-image": ("![x](sub/missing.png)", "sub/missing.png: no such file or folder"),
    "missing-img-src": ('<img src="missing.png">', "missing.png: no such file or folder"),
    "missing-a-href": ('<a href="missing/">x</a>', "missing/: no such file or folder"),
    "missing-anchor": (
        "[x](#no-such-heading)",
        "#no-such-heading: no heading or <a id> in README.md gives this anchor",
    ),
    "heading-in-a-code-fence": (
        "[x](#a-heading-in-code)",
        "#a-heading-in-code: no heading or <a id> in README.md gives this anchor",
    ),
    "repeat-of-a-heading-never-repeated": (
        "[x](#the-page-1)",
        "#the-page-1: no heading or <a id> in README.md gives this anchor",
    ),
    "missing-anchor-in-another-page": (
        "[x](other.md#nowhere)",
        "other.md#nowhere: no heading or <a id> in other.md gives this anchor",
    ),
    "line-past-the-end": ("[x](sub/code.py#L3)", "sub/code.py#L3: code.py has 2 lines"),
    "outside-the-repository": ("[x](../outside.md)", "../outside.md: outside the repository"),
    "undefined-reference": ("[x][nowhere]", "[nowhere] is a reference to a label never defined"),
}


@pytest.mark.parametrize(("line", "expected"), BROKEN_LINKS.values(), ids=list(BROKEN_LINKS))
def test_a_link_that_leads_nowhere_is_reported(tmp_path: Path, line: str, expected: str) -> None:
    text = f"# The page\n\n{line}\n\n```\n# A heading in code\n```\n"
    problems = link_problems(write_pages(tmp_path, text), root=tmp_path)
    assert problems == [f"README.md:3: {expected}"]


# Part of a page, and what is reported about it: the page's first line is a heading, so a
# command in a fence is on line 4, and one in the prose on line 3.
MISSING_COMMANDS = {
    "unknown-make-target": (
        "```sh\nmake no-such-target\n```",
        "4: make no-such-target: the Makefile has no target no-such-target",
    ),
    "unknown-make-target-inline": (
        "Run `make test no-such`.",
        "3: make test no-such: the Makefile has no target no-such",
    ),
    "unknown-flask-command": (
        "```\nflask --app loginflow no-such\n```",
        "4: flask --app loginflow no-such: flask has no command no-such",
    ),
    "unknown-flask-subcommand": (
        "```bash\n.venv/bin/flask --app loginflow db upgrayedd\n```",
        "4: .venv/bin/flask --app loginflow db upgrayedd: flask db has no command upgrayedd",
    ),
    "unknown-flask-option": (
        "```sh\nflask --app loginflow sign-ins purge --older 3\n```",
        "4: flask --app loginflow sign-ins purge --older 3: "
        "flask sign-ins purge has no option --older",
    ),
    "flask-without-the-app": (
        "```sh\nflask create-user alice\n```",
        "4: flask create-user alice: "
        "flask finds this site only with --app loginflow before the command",
    ),
    "flask-with-another-app": (
        "```sh\nflask --app other run\n```",
        "4: flask --app other run: --app other is not this site: flask --app loginflow is",
    ),
    "unknown-program-in-a-chain": (
        "```sh\nmake test && frobnicate\n```",
        "4: frobnicate: frobnicate is not make, flask, python, a .venv/bin script or an allowed "
        "outside command (OUTSIDE_COMMANDS in tests/docs.py)",
    ),
    "missing-venv-script": (
        "```console\n$ .venv/bin/no-such\n```",
        "4: .venv/bin/no-such: there is no no-such in .venv/bin, and no make target installs one",
    ),
    "missing-python-module": (
        "```sh\npython -m no_such_module\n```",
        "4: python -m no_such_module: no module no_such_module to run",
    ),
    "missing-python-script": (
        "```sh\npython3 no_such_script.py\n```",
        "4: python3 no_such_script.py: no script no_such_script.py",
    ),
    "unclosed-quote": ("```sh\necho 'unclosed\n```", "4: echo 'unclosed: a quote is never closed"),
}


@pytest.mark.parametrize(
    ("text", "expected"), MISSING_COMMANDS.values(), ids=list(MISSING_COMMANDS)
)
def test_a_command_that_does_not_exist_is_reported(
    tmp_path: Path, project: Project, text: str, expected: str
) -> None:
    problems = command_problems(write_pages(tmp_path, f"# The page\n\n{text}\n"), project)
    assert problems == [f"README.md:{expected}"]


def test_every_problem_of_a_page_is_reported_at_once(tmp_path: Path, project: Project) -> None:
    text = "[a](missing.md)\n[b](#nowhere)\n```sh\nmake no-such\nflask --app loginflow no\n```\n"
    path = write_pages(tmp_path, text)
    assert [problem.split(": ")[0] for problem in link_problems(path, root=tmp_path)] == [
        "README.md:1",
        "README.md:2",
    ]
    assert [problem.split(": ")[0] for problem in command_problems(path, project)] == [
        "README.md:4",
        "README.md:5",
    ]


def test_make_alone_needs_a_default_goal(tmp_path: Path, project: Project) -> None:
    no_rules = Project(read_makefile("PORT ?= 5000\n.PHONY: run\n"), project.flask)
    path = write_pages(tmp_path, "```sh\nmake\nmake run\n```\n")
    assert command_problems(path, no_rules) == [
        "README.md:2: make: the Makefile has no default goal"
    ]


# Variables in file targets, a .PHONY list over two lines, colons in recipes, in a define
# block and in a value, a pattern rule.
MAKEFILE = """\
VENV := .venv
BIN = $(VENV)/bin
URL := http://127.0.0.1:5000
.PHONY: run \\
\tlint
$(BIN)/python:
\t@echo "not: a rule"
define recipe
fake-target: inside a define
endef
run: $(BIN)/python ; @echo run
.venv-%/.installed: requirements.txt
"""


def test_a_makefile_is_read_as_make_reads_it() -> None:
    rules = read_makefile(MAKEFILE)
    assert rules.targets == {".venv/bin/python", "run", "lint"}
    assert rules.has(".venv-3.13/.installed")
    assert not rules.has(".venv-/.installed")
    assert rules.default_goal == ".venv/bin/python"  # the first, .PHONY aside
    assert read_makefile(MAKEFILE + ".DEFAULT_GOAL := run\n").default_goal == "run"


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        (
            "The pattern, in the order a request travels",
            "the-pattern-in-the-order-a-request-travels",
        ),
        ("What `make bench` costs", "what-make-bench-costs"),
        ("Sign in — and out", "sign-in--and-out"),
        ("Über 100 %", "über-100-"),
        ("`last_seen_at` and _emphasis_", "last_seen_at-and-emphasis"),
        ("[A link](x.md) and <b>bold</b>", "a-link-and-bold"),
    ],
)
def test_headings_get_githubs_anchors(heading: str, anchor: str) -> None:
    assert anchors(read_markdown(f"# {heading}\n\n## {heading}\n")) == {anchor, f"{anchor}-1"}


# Mermaid reads ";" as the end of a statement (a message cut there fails to render) and
# knows a diagram by its first word.
MERMAID_DIAGRAMS = ("sequenceDiagram", "stateDiagram-v2")


def mermaid_problems(text: str, name: str) -> list[str]:
    """Lines of the page's Mermaid diagrams that GitHub would fail to draw."""
    problems = []
    for fence in read_markdown(text).fences:
        if fence.language != "mermaid":
            continue
        if not fence.lines or fence.lines[0].strip() not in MERMAID_DIAGRAMS:
            problems.append(f"{name}:{fence.first_line}: not one of {', '.join(MERMAID_DIAGRAMS)}")
        problems += [
            f"{name}:{fence.first_line + number}: ';' ends a Mermaid statement: {line.strip()}"
            for number, line in enumerate(fence.lines)
            if ";" in line
        ]
    return problems


@pytest.mark.parametrize("name", PAGES)
def test_every_diagram_of_the_page_is_one_mermaid_draws(name: str) -> None:
    problems = mermaid_problems(page(name).read_text(encoding="utf-8"), name)
    assert not problems, "\n".join(problems)


def test_a_diagram_mermaid_cannot_draw_is_reported() -> None:
    text = "# A\n\n```mermaid\nsequenceDiagram\n    A->>B: x; y\n```\n\n```mermaid\ngraph\n```\n"
    assert mermaid_problems(text, "A.md") == [
        "A.md:5: ';' ends a Mermaid statement: A->>B: x; y",
        "A.md:9: not one of sequenceDiagram, stateDiagram-v2",
    ]
