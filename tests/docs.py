"""What README.md and SECURITY.md link to, checked against the project.

A reader follows a link as written; if it went stale with a rename, the page is wrong and
nothing else notices. The check returns every problem of a page, as
``NAME:LINE: what is wrong``, so one run lists them all.
"""

import re
from pathlib import Path
from urllib.parse import unquote

from .markdown import Markdown, anchors, links, read_markdown

PROJECT_ROOT = Path(__file__).resolve().parents[1]

ABSOLUTE_URL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")  # http:, https:, mailto:, ...
LINE_ANCHOR = re.compile(r"L(\d+)(?:-L(\d+))?")  # GitHub's anchors into a file's lines


# Where links are resolved and Markdown anchors looked up: a page read once per run.
Pages = dict[Path, Markdown]


def read_page(path: Path, pages: Pages) -> Markdown:
    if path not in pages:
        pages[path] = read_markdown(path.read_text(encoding="utf-8"))
    return pages[path]


def link_problems(path: Path, root: Path = PROJECT_ROOT) -> list[str]:
    """Every relative link, image and anchor of the page at ``path`` that leads nowhere."""
    pages: Pages = {}
    page = read_page(path, pages)
    found, undefined = links(page)
    problems = [
        f"{path.name}:{link.line}: [{link.target}] is a reference to a label never defined"
        for link in undefined
    ]
    for link in found:
        if problem := target_problem(link.target, path, root, pages):
            problems.append(f"{path.name}:{link.line}: {link.target}: {problem}")
    return problems


def target_problem(target: str, page: Path, root: Path, pages: Pages) -> str | None:
    """Why ``target``, linked from ``page``, leads nowhere on GitHub, or None if it leads
    somewhere. A path starting with / is from the repository's root, as GitHub reads it."""
    if ABSOLUTE_URL.match(target):
        return None
    location, has_anchor, anchor = target.partition("#")
    location, anchor = unquote(location.partition("?")[0]), unquote(anchor)
    file = page
    if location:
        base = root if location.startswith("/") else page.parent
        file = (base / location.lstrip("/")).resolve()
        if not file.is_relative_to(root.resolve()):
            return "outside the repository"
        if not file.exists():
            return "no such file or folder"
    if not has_anchor or not anchor:
        return None
    if file.is_dir():
        return "a folder has no anchors"
    if file.suffix.lower() in {".md", ".markdown"}:
        if anchor in anchors(read_page(file, pages)):
            return None
        return f"no heading or <a id> in {file.name} gives this anchor"
    if match := LINE_ANCHOR.fullmatch(anchor):
        length = len(file.read_text(encoding="utf-8").splitlines())
        if all(int(number) <= length for number in match.groups() if number):
            return None
        return f"{file.name} has {length} lines"
    return f"#{anchor}: {file.name} is not Markdown, and its only anchors are lines (#L12)"
