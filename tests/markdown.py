"""Markdown read as GitHub renders it, as far as links, anchors and code go.

markdown-it-py parses the page (CommonMark and GitHub's tables); the documentation tests
(test_docs.py) take from its tokens the fenced code blocks, the inline code, the link
targets and the anchors GitHub gives headings, each with its line in the page.
"""

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
HTML_TAG = re.compile(r"<(a|img)\b([^>]*)>", re.IGNORECASE)
HTML_ATTRIBUTE = re.compile(
    r"""(?<![\w-])(href|src|id|name)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE
)
# [text][label] or [label][] left as text: GitHub shows it so when the label is undefined.
UNDEFINED_REFERENCE = re.compile(r"\[([^\[\]]*)\]\[([^\[\]]*)\]")
# What a heading (# Title, or Title over === or ---) shows of its inline tokens: its text
# (escapes and entities are text_special) and code, not HTML, emphasis markers or targets.
HEADING_TEXT = frozenset({"text", "text_special", "code_inline"})

InlineRule = Callable[[StateInline, bool], bool]


def noting_lines(rule: InlineRule) -> InlineRule:
    """``rule``, noting in each token it makes (and pending text it pushes, which ends
    where the rule starts) how many lines into its paragraph, heading or cell it starts."""

    def rule_noting_lines(state: StateInline, silent: bool) -> bool:
        start, count = state.pos, len(state.tokens)
        matched = rule(state, silent)
        for token in state.tokens[count:]:
            token.meta.setdefault("line", state.src.count("\n", 0, start))
        return matched

    return rule_noting_lines


class GitHubMarkdown(MarkdownIt):
    """CommonMark with tables. Reference definitions are tokens with lines, a reference
    link names its label, escapes and entities stay apart from text (so ``\\[x\\]\\[y\\]``
    is no reference), and each inline token knows its line."""

    def __init__(self) -> None:
        super().__init__("commonmark", {"inline_definitions": True, "store_labels": True})
        self.enable("table").disable("text_join")
        rules = self.inline.ruler
        for name, rule in zip(rules.get_active_rules(), rules.getRules(""), strict=True):
            rules.at(name, noting_lines(rule))

    def normalizeLink(self, url: str) -> str:
        """Targets as the page gives them, not percent-encoded: docs.py decodes them."""
        return url


PARSER = GitHubMarkdown()


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
    """A page as markdown-it-py's tokens."""

    tokens: list[Token]

    def located(self) -> Iterator[tuple[int, Token]]:
        """Each block token, and each inline token's children, in page order with their
        line; a child that has no line of its own follows the line breaks before it."""
        for token in self.tokens:
            line = token.map[0] + 1 if token.map else 0
            yield line, token
            offset = 0
            for child in token.children or []:
                offset = child.meta.get("line", offset)
                yield line + offset, child
                offset += child.type in {"softbreak", "hardbreak"}

    @property
    def fences(self) -> list[Fence]:
        """The fenced code blocks; an unclosed one runs to the end, as on GitHub."""
        return [
            Fence(
                (token.info.split() or [""])[0].lower(),
                line + 1,
                token.content.removesuffix("\n").split("\n") if token.content else [],
            )
            for line, token in self.located()
            if token.type == "fence"
        ]

    def code_spans(self) -> list[tuple[int, str]]:
        """Each inline code span's line and content, as rendered (spaces for newlines)."""
        return [
            (line, token.content) for line, token in self.located() if token.type == "code_inline"
        ]


def read_markdown(text: str) -> Markdown:
    return Markdown(PARSER.parse(text))


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading with this rendered text, before numbering repeats:
    lowercase, anything but letters, digits, spaces, hyphens and underscores dropped,
    each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def html_attributes(line: int, token: Token) -> Iterator[tuple[int, str, str, str]]:
    """(line, tag, attribute, value) of each href, src, id and name of the <a> and <img>
    tags of an HTML token that starts on ``line``, comments left out."""
    text = HTML_COMMENT.sub(lambda comment: "\n" * comment[0].count("\n"), token.content)
    for tag in HTML_TAG.finditer(text):
        for attribute in HTML_ATTRIBUTE.finditer(tag[2]):
            value = next(group for group in attribute.groups()[1:] if group is not None)
            at = line + text.count("\n", 0, tag.start(2) + attribute.start())
            yield at, tag[1].lower(), attribute[1].lower(), html.unescape(value)


def anchors(page: Markdown) -> set[str]:
    """Every anchor a link into the page can name: its headings' (a repeat gets -1, -2 …)
    and those of <a id=...> or <a name=...>."""
    found = set()
    seen: dict[str, int] = {}
    for token, inline in pairwise(page.tokens):
        if token.type != "heading_open":
            continue
        shown = (child.content for child in inline.children or [] if child.type in HEADING_TEXT)
        anchor = github_anchor("".join(shown))
        found.add(f"{anchor}-{seen[anchor]}" if anchor in seen else anchor)
        seen[anchor] = seen.get(anchor, 0) + 1
    for line, token in page.located():
        if token.type in {"html_block", "html_inline"}:
            for _, tag, name, value in html_attributes(line, token):
                if tag == "a" and name in {"id", "name"}:
                    found.add(value)
    return found


def links(page: Markdown) -> tuple[list[Link], list[Link]]:
    """The page's link targets in page order (inline links, images, reference definitions,
    <a href> and <img src>), and the references to labels it never defines (GitHub shows
    those as text). A reference link's target is its definition's, checked there."""
    found, undefined = [], []
    for line, token in page.located():
        if token.type in {"link_open", "image"} and "label" not in token.meta:
            found.append(
                Link(line, str(token.attrs["href" if token.type == "link_open" else "src"]))
            )
        elif token.type == "definition":
            found.append(Link(line, token.meta["url"]))
        elif token.type in {"html_block", "html_inline"}:
            found += [
                Link(at, value)
                for at, tag, name, value in html_attributes(line, token)
                if (tag, name) in {("a", "href"), ("img", "src")}
            ]
        elif token.type == "text":
            found_here = UNDEFINED_REFERENCE.finditer(token.content)
            undefined += [Link(line, match[2] or match[1]) for match in found_here]
    return found, undefined
