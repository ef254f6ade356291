"""README.md and SECURITY.md lead somewhere: every relative link and anchor resolves
(tests/docs.py says how each is read)."""

from pathlib import Path

import pytest

from .docs import PROJECT_ROOT, link_problems
from .markdown import anchors, links, read_markdown

# About the pages, not the database.
pytestmark = pytest.mark.sqlite_only

PAGES = ["README.md", "SECURITY.md"]


def page(name: str) -> Path:
    """The page at the repository's root; missing is a failure: it is meant to be there."""
    path = PROJECT_ROOT / name
    assert path.is_file(), f"{name} is missing at the repository's root"
    return path


@pytest.mark.parametrize("name", PAGES)
def test_every_relative_link_and_anchor_of_the_page_resolves(name: str) -> None:
    problems = link_problems(page(name))
    assert not problems, "\n".join(["Links that lead nowhere:", *problems])


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
        (3, "other.md"),
        (3, "picture.png"),
        (8, "#running-it"),
        (8, "#running-it-1"),
        (8, "other.md#elsewhere"),
        (9, "sub/"),
        (9, "/other.md"),
        (9, "sub/code.py#L2"),
        (9, "#"),
        (10, "https://x.org"),
        (10, "#kept"),
        (48, "other.md"),
    ]
    assert undefined == []
    assert anchors(page) == {"a-page", "running-it", "running-it-1", "kept"}


def test_a_good_page_has_no_link_problems(tmp_path: Path) -> None:
    assert link_problems(write_pages(tmp_path, GOOD_PAGE), root=tmp_path) == []


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


def test_every_problem_of_a_page_is_reported_at_once(tmp_path: Path) -> None:
    text = "[a](missing.md)\n[b](#nowhere)\n"
    path = write_pages(tmp_path, text)
    assert [problem.split(": ")[0] for problem in link_problems(path, root=tmp_path)] == [
        "README.md:1",
        "README.md:2",
    ]


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
