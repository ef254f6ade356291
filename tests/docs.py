"""What README.md and SECURITY.md link to and tell people to run, checked against the project.

A reader follows a link or pastes a command as written; if either went stale with a rename,
the page is wrong and nothing else notices. Each check returns every problem of a page, as
``NAME:LINE: what is wrong``, so one run lists them all.
"""

import importlib.util
import re
import shlex
import sysconfig
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo

from .makefile import MakeRules, make_problem
from .markdown import Markdown, anchors, links, read_markdown
from .shell import ENV_ASSIGNMENT, PROMPT, fence_command_lines, simple_commands

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Commands that are not the project's, which the pages show around its own: shell builtins
# every reader's shell has. Add one here only when a page uses it and a reader is expected
# to have or install it.
OUTSIDE_COMMANDS = frozenset({"echo", "export"})

SHELL_LANGUAGES = frozenset({"sh", "shell", "bash", "console"})
ABSOLUTE_URL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")  # http:, https:, mailto:, ...
LINE_ANCHOR = re.compile(r"L(\d+)(?:-L(\d+))?")  # GitHub's anchors into a file's lines
PYTHON = re.compile(r"python(?:3(?:\.\d+)?)?")
PYTHON_OPTIONS_WITH_VALUE = frozenset({"-W", "-X"})

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


# Why a ``flask --app loginflow ...`` command line would fail, or None.
FlaskCheck = Callable[[list[str]], str | None]


@contextmanager
def flask_commands(app: Flask) -> Iterator[FlaskCheck]:
    """A check of ``flask`` arguments against the command line ``flask --app loginflow``
    builds for ``app``: the app's commands (app.cli) and Flask's own (run, shell, routes)."""
    root = FlaskGroup(create_app=lambda: app, load_dotenv=False, set_debug_flag=False)
    info = ScriptInfo(create_app=lambda: app, set_debug_flag=False, load_dotenv_defaults=False)
    with click.Context(root, info_name="flask", obj=info) as context:
        yield lambda args: flask_problem(root, context, args)


def flask_problem(root: click.Group, context: click.Context, args: list[str]) -> str | None:
    """Walks ``args`` as click would: options of each command (with their values), then
    a subcommand while the command is a group; a leaf's other words are its arguments."""
    command: click.Command = root
    names = ["flask"]
    app = None
    words = iter(args)
    for word in words:
        if word == "--":
            break
        if word.startswith("-") and word != "-":
            name, attached, value = word.partition("=")
            option = find_option(command, name, context)
            if option is None and not name.startswith("--") and len(name) > 2:
                name, attached, value = name[:2], "=", name[2:]
                option = find_option(command, name, context)
            if option is None:
                return f"{' '.join(names)} has no option {name}"
            if not (option.is_flag or option.count or attached):
                value = next(words, "")
            if command is root and name in {"--app", "-A"}:
                app = value
        elif isinstance(command, click.Group):
            subcommand = command.get_command(context, word)
            if subcommand is None:
                return f"{' '.join(names)} has no command {word}"
            command = subcommand
            names.append(word)
    if app is None:
        return "flask finds this site only with --app loginflow before the command"
    if app != "loginflow":
        return f"--app {app} is not this site: flask --app loginflow is"
    return None


def find_option(command: click.Command, name: str, context: click.Context) -> click.Option | None:
    for parameter in command.get_params(context):
        if (
            isinstance(parameter, click.Option)
            and name in parameter.opts + parameter.secondary_opts
        ):
            return parameter
    return None


@dataclass(frozen=True)
class Project:
    """What a command line may name: the Makefile's rules, the app's commands, the scripts
    in .venv/bin, and the folder a page's relative paths start from."""

    make: MakeRules
    flask: FlaskCheck
    folder: Path = PROJECT_ROOT

    def has_script(self, name: str) -> bool:
        """``.venv/bin/NAME`` exists, in the project's .venv or in the environment running
        the tests (make test-pythons' .venv-3.X, installed from the same lock), or NAME is
        a package some make target installs (make lint's ruff, make mutate's mutmut)
        whose script bears its name."""
        folders = [self.folder / ".venv" / "bin", Path(sysconfig.get_path("scripts"))]
        if any((folder / name).is_file() for folder in folders):
            return True
        locks = (self.folder / "requirements").glob("*.txt")
        pin = re.compile(rf"^{re.escape(name)}(\[[^\]]*\])?==", re.MULTILINE | re.IGNORECASE)
        return any(pin.search(lock.read_text(encoding="utf-8")) for lock in locks)


def command_problems(path: Path, project: Project) -> list[str]:
    """Every command line of the page at ``path`` that names no make target, flask command,
    .venv/bin script, Python module or allowed outside command."""
    problems = []
    for line, command in command_lines(read_markdown(path.read_text(encoding="utf-8"))):
        try:
            commands = simple_commands(command)
        except ValueError:
            problems.append(f"{path.name}:{line}: {command.strip()}: a quote is never closed")
            continue
        for words in commands:
            if problem := command_problem(words, project):
                problems.append(f"{path.name}:{line}: {shlex.join(words)}: {problem}")
    return problems


def command_lines(page: Markdown) -> Iterator[tuple[int, str]]:
    """Each command line a reader would paste, with its line: those of the shell fences and
    inline code that starts with ``make ``."""
    for fence in page.fences:
        if fence.language in SHELL_LANGUAGES or (
            not fence.language and looks_like_shell(fence.lines)
        ):
            yield from fence_command_lines(fence.first_line, fence.lines)
    for line, code in page.code_spans():
        if code.startswith("make "):
            yield line, code


def looks_like_shell(lines: list[str]) -> bool:
    """Whether a fence without a language holds commands: its first line that is not blank
    or a comment has a ``$ `` prompt, or starts with a command the checks know (make,
    flask, python, .venv/bin/..., an outside command). Output, tables and file listings
    start otherwise (``machine: ...``, ``config.py   settings``), and are left alone."""
    for line in lines:
        if not line.strip() or line.strip().startswith("#"):
            continue
        if PROMPT.match(line):
            return True
        words = [word for word in line.split() if not ENV_ASSIGNMENT.match(word)]
        return bool(words) and known_program(words[0])
    return False


def known_program(word: str) -> bool:
    return (
        word in {"make", "flask"} | OUTSIDE_COMMANDS
        or word.startswith(".venv/bin/")
        or bool(PYTHON.fullmatch(word))
    )


def command_problem(words: list[str], project: Project) -> str | None:
    """Why one simple command would not run as the page says, or None."""
    program, args = words[0], words[1:]
    if program.startswith((".venv/bin/", "./.venv/bin/")):
        program = program.rpartition("/")[2]
        if not project.has_script(program):
            return f"there is no {program} in .venv/bin, and no make target installs one"
        if program not in {"flask", "make"} and not PYTHON.fullmatch(program):
            return None
    if program == "make":
        return make_problem(args, project.make)
    if program == "flask":
        return project.flask(args)
    if PYTHON.fullmatch(program):
        return python_problem(args, project.folder)
    if program in OUTSIDE_COMMANDS:
        return None
    return (
        f"{program} is not make, flask, python, a .venv/bin script or an allowed outside "
        "command (OUTSIDE_COMMANDS in tests/docs.py)"
    )


def python_problem(args: list[str], folder: Path) -> str | None:
    """``-m MODULE`` must be importable (a package, through its __main__), a script must
    exist in ``folder``; ``-c`` code and an interactive Python are fine."""
    words = iter(args)
    for word in words:
        if word in PYTHON_OPTIONS_WITH_VALUE:
            next(words, None)
        elif word == "-m":
            module = next(words, "")
            return None if runnable_module(module, folder) else f"no module {module} to run"
        elif word == "-c":
            return None
        elif not word.startswith("-"):
            return None if (folder / word).is_file() else f"no script {word}"
    return None


def runnable_module(name: str, folder: Path) -> bool:
    """Whether ``python -m name``, run in ``folder``, finds a module or a package's
    __main__: in the folder itself (python puts it first on the path), else installed."""
    local = folder.joinpath(*name.split("."))
    if local.with_suffix(".py").is_file() or (local / "__main__.py").is_file():
        return True
    try:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations is not None:
            spec = importlib.util.find_spec(f"{name}.__main__")
    except (ImportError, ValueError):
        return False
    return spec is not None
