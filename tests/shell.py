"""Command lines as a shell reads them: which lines of a code block are commands, and the
simple commands (program and arguments) of each.

The documentation tests (test_docs.py) check the program of every simple command a page
shows; this module only finds them, as a reader pasting the block would run them.
"""

import re
import shlex
from collections.abc import Iterator

PROMPT = re.compile(r"^\s*\$ ")
ENV_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")  # FOO=bar before a command
SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", ";;", "|&"})
HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")


def fence_command_lines(first_line: int, lines: list[str]) -> Iterator[tuple[int, str]]:
    """The fence's command lines, continuations joined, with the line each starts on. With
    ``$ `` prompts, only prompted lines are commands (the rest is their output); without,
    every line that is not blank or a comment. Here-documents are skipped."""
    prompted = any(PROMPT.match(line) for line in lines)
    index = 0
    while index < len(lines):
        start = index
        line = lines[index]
        index += 1
        if prompted and not PROMPT.match(line):
            continue
        command = PROMPT.sub("", line, count=1)
        while index < len(lines) and continues(command):
            command = command.rstrip().removesuffix("\\") + "\n" + lines[index]
            index += 1
        if not command.strip() or command.strip().startswith("#"):
            continue
        if heredoc := HEREDOC.search(command):
            while index < len(lines) and lines[index].strip() != heredoc[2]:
                index += 1
            index += 1
        yield first_line + start, command


def continues(command: str) -> bool:
    """Whether a command line goes on to the next: a trailing backslash, an operator
    waiting for its right side, or a quote still open."""
    stripped = without_comment(command).rstrip()
    if stripped.endswith("\\") or stripped.endswith(("&&", "||", "|")):
        return True
    try:
        shell_words(command)
    except ValueError:
        return True
    return False


def without_comment(command: str) -> str:
    """``command`` up to a # that starts a word outside quotes, which starts a comment."""
    quote = None
    for index, character in enumerate(command):
        if quote:
            quote = None if character == quote else quote
        elif character in "'\"":
            quote = character
        elif character == "#" and (index == 0 or command[index - 1] in " \t\n;&|("):
            return command[:index]
    return command


def shell_words(command: str) -> list[str]:
    lexer = shlex.shlex(without_comment(command), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    return list(lexer)


def simple_commands(command: str) -> list[list[str]]:
    """The simple commands of a line, split at &&, ||, ;, |, & and parentheses, each
    without the VAR=value words before it. ValueError: a quote is never closed."""
    commands: list[list[str]] = [[]]
    for word in shell_words(command):
        if word in SEPARATORS:
            commands.append([])
        elif commands[-1] or not ENV_ASSIGNMENT.match(word):
            commands[-1].append(word)
    return [words for words in commands if words]
