"""Markdown read as GitHub renders it, as far as links, anchors and code go.

The documentation tests (test_docs.py) need three things from a page: its fenced code
blocks, the prose around them with inline code taken out (a link or heading shown as code
is not one), and the anchors GitHub gives its headings. No Markdown library does exactly
that, and a page only has to be read the way GitHub reads it, so these few rules do.
"""

import html
import re
from dataclasses import dataclass

# A fence opens with three or more backticks (then no backtick on the line: ```x``` is
# inline code) or tildes; its info string's first word is the language. Indentation is not
# limited to three spaces: a fence inside a list item is deeper.
FENCE = re.compile(r"^\s*(`{3,}(?=[^`]*$)|~{3,})\s*(\S*)")
# Inline code: a run of backticks, then the shortest text up to a run of the same length,
# never across a blank line (a span lives in one paragraph).
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)((?:(?!\n[ \t]*\n).)+?)(?<!`)\1(?!`)", re.DOTALL)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
ATX_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT_UNDERLINE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
# [text](target "title") and ![alt](src): the target may be <bracketed> or hold one level
# of balanced parentheses; link text may hold one level of brackets.
LINK_TEXT = r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]"
INLINE_LINK = re.compile(
    r"!?" + LINK_TEXT + r"\(\s*(<[^<>\n]*>|(?:[^\s()]|\([^\s()]*\))*)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
# [text][label] and [label][] (a bare [label] is too common in prose to read as a link).
REFERENCE_LINK = re.compile(LINK_TEXT + r"\[([^\[\]]*)\]")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[([^\[\]]+)\]:[ \t]*(<[^<>\n]*>|\S+)", re.MULTILINE)
HTML_TAG = re.compile(r"<(a|img)\b([^>]*)>", re.IGNORECASE)
HTML_ATTRIBUTE = re.compile(
    r"""(?<![\w-])(href|src|id|name)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE
)


@dataclass(frozen=True)
class Fence:
    """One fenced code block: its language (lowercase, "" if none) and its lines."""

    language: str
    first_line: int  # the line number of the block's first line of code
    lines: list[str]


@dataclass(frozen=True)
class Link:
    """A link's target where the page gives it, by line."""

    line: int
    target: str


@dataclass(frozen=True)
class Markdown:
    """A page split into its fenced code blocks and the prose around them."""

    # The page with every fence's lines emptied and HTML comments blanked out: offsets into
    # it give the page's line numbers, and nothing in a code block reads as a link.
    prose: str
    fences: list[Fence]

    def line_of(self, offset: int) -> int:
        return self.prose.count("\n", 0, offset) + 1

    def code_spans(self) -> list[tuple[int, str]]:
        """Each inline code span's line and content, as rendered (spaces for newlines)."""
        spans = []
        for match in CODE_SPAN.finditer(self.prose):
            content = match[2].replace("\n", " ")
            if content.startswith(" ") and content.endswith(" ") and content.strip():
                content = content[1:-1]
            spans.append((self.line_of(match.start()), content))
        return spans

    def prose_without_code(self) -> str:
        """The prose with inline code blanked out, line breaks kept."""
        return CODE_SPAN.sub(blank, self.prose)


def blank(match: re.Match[str]) -> str:
    """Spaces for the matched text, its line breaks kept, so offsets stay where they were."""
    return re.sub(r"[^\n]", " ", match[0])


def read_markdown(text: str) -> Markdown:
    """Split ``text`` into fences and prose; an unclosed fence runs to the end, as on GitHub."""
    prose_lines: list[str] = []
    fences: list[Fence] = []
    opening: tuple[str, Fence] | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        if opening is None:
            if match := FENCE.match(line):
                opening = (match[1], Fence(match[2].lower(), number + 1, []))
                line = ""
        else:
            marker, fence = opening
            if re.fullmatch(rf"\s*{marker[0]}{{{len(marker)},}}\s*", line):
                fences.append(fence)
                opening = None
            else:
                fence.lines.append(line)
            line = ""
        prose_lines.append(line)
    if opening is not None:
        fences.append(opening[1])
    prose = HTML_COMMENT.sub(blank, "\n".join(prose_lines))
    return Markdown(prose, fences)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading with this rendered text, before numbering repeats:
    lowercase, anything but letters, digits, spaces, hyphens and underscores dropped,
    each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def rendered_text(markdown: str) -> str:
    """A heading's text as GitHub shows it: code as written, links as their text, no HTML
    tags, no emphasis markers (underscores within a word stay)."""
    parts = []
    position = 0
    for match in CODE_SPAN.finditer(markdown):
        parts.append(rendered_inline(markdown[position : match.start()]))
        parts.append(match[2].strip())
        position = match.end()
    parts.append(rendered_inline(markdown[position:]))
    return "".join(parts)


def rendered_inline(markdown: str) -> str:
    """Text outside code spans, rendered: see ``rendered_text``."""
    text = INLINE_LINK.sub(lambda match: match[1], markdown)
    text = REFERENCE_LINK.sub(lambda match: match[1], text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"(?<!\w)_+|_+(?!\w)", "", text)
    return html.unescape(text)


def headings(page: Markdown) -> list[str]:
    """The page's headings, ATX (# Title) and setext (Title over === or ---), in order.

    Read from the prose, so a line of a fence never counts; a line that starts with inline
    code is not a heading either way."""
    lines = page.prose.split("\n")
    found = []
    for number, line in enumerate(lines):
        if match := ATX_HEADING.match(line):
            found.append(match[1] or "")
        elif (
            SETEXT_UNDERLINE.match(line)
            and number > 0
            and lines[number - 1].strip()
            and not re.match(r"\s*([-*+>|#]|\d+[.)])", lines[number - 1])
        ):
            found.append(lines[number - 1].strip())
    return [rendered_text(heading) for heading in found]


def anchors(page: Markdown) -> set[str]:
    """Every anchor a link into the page can name: its headings' (a repeat gets -1, -2 …)
    and those of <a id=...> or <a name=...>."""
    found = set()
    seen: dict[str, int] = {}
    for heading in headings(page):
        anchor = github_anchor(heading)
        found.add(f"{anchor}-{seen[anchor]}" if anchor in seen else anchor)
        seen[anchor] = seen.get(anchor, 0) + 1
    for _, tag, name, value in html_attributes(page):
        if tag == "a" and name in {"id", "name"}:
            found.add(value)
    return found


def html_attributes(page: Markdown) -> list[tuple[int, str, str, str]]:
    """(line, tag, attribute, value) of each href, src, id and name of <a> and <img> tags."""
    found = []
    prose = page.prose_without_code()
    for tag in HTML_TAG.finditer(prose):
        for attribute in HTML_ATTRIBUTE.finditer(tag[2]):
            value = next(group for group in attribute.groups()[1:] if group is not None)
            line = page.line_of(tag.start(2) + attribute.start())
            found.append((line, tag[1].lower(), attribute[1].lower(), html.unescape(value)))
    return found


def reference_definitions(page: Markdown) -> dict[str, Link]:
    """[label]: target lines, by label as GitHub matches them (case and spacing ignored)."""
    prose = page.prose_without_code()
    return {
        normal_label(match[1]): Link(page.line_of(match.start()), match[2].strip("<>"))
        for match in REFERENCE_DEFINITION.finditer(prose)
    }


def normal_label(label: str) -> str:
    return " ".join(label.split()).casefold()


def links(page: Markdown) -> tuple[list[Link], list[Link]]:
    """The page's link targets (inline links, images, reference definitions, <a href> and
    <img src>), and the references to labels it never defines (GitHub shows those as text)."""
    prose = page.prose_without_code()
    found = [
        Link(page.line_of(match.start()), match[2].strip("<>"))
        for match in INLINE_LINK.finditer(prose)
    ]
    definitions = reference_definitions(page)
    found += definitions.values()
    found += [
        Link(line, value)
        for line, tag, name, value in html_attributes(page)
        if (tag, name) in {("a", "href"), ("img", "src")}
    ]
    undefined = [
        Link(page.line_of(match.start()), match[2] or match[1])
        for match in REFERENCE_LINK.finditer(prose)
        if normal_label(match[2] or match[1]) not in definitions
    ]
    return sorted(found, key=lambda link: link.line), undefined
