"""Which targets a Makefile has, read as make reads it, and whether ``make ARGS`` names them.

The documentation tests (test_docs.py) check each ``make ...`` a page shows against the
project's Makefile. Parsing the rules, rather than asking ``make -pn``, needs no make and
runs nothing of the Makefile's.
"""

import re
from dataclasses import dataclass

MAKE_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*[:+?]?=")  # VAR=value among the goals
# make's options that take the next word as their value, not as a goal.
MAKE_OPTIONS_WITH_VALUE = frozenset({"-C", "-f", "-I", "-o", "-W", "--file", "--directory"})


@dataclass(frozen=True)
class MakeRules:
    """What ``make TARGET`` can name: the Makefile's targets, its pattern rules' (with %),
    and its default goal (None: ``make`` alone fails)."""

    targets: frozenset[str]
    patterns: tuple[str, ...]
    default_goal: str | None

    def has(self, goal: str) -> bool:
        return goal in self.targets or any(
            re.fullmatch(".+".join(map(re.escape, pattern.split("%", 1))), goal)
            for pattern in self.patterns
        )


def read_makefile(text: str) -> MakeRules:
    """The rules of a Makefile: every target of every rule (file targets, with variables
    expanded, and .PHONY's), skipping recipes, define blocks and conditionals."""
    variables: dict[str, str] = {}
    targets: list[str] = []
    phony: list[str] = []
    in_define = False
    for line in re.sub(r"\\\n", " ", text).split("\n"):
        if in_define or line.startswith("define "):
            in_define = line.strip() != "endef"
            continue
        line = line.split("#", 1)[0]
        if line.startswith("\t") or not line.strip():
            continue
        assignment = re.match(
            r"\s*(?:export\s+|override\s+)?([A-Za-z_.][\w.-]*)\s*(::?=|:::=|\?=|\+=|!=|=)(.*)", line
        )
        rule = re.match(r"([^:=\s][^:=]*?)\s*::?(?!=)(.*)", line)
        if assignment:
            name, operator, value = assignment.groups()
            if operator == "+=":
                value = f"{variables.get(name, '')} {value}"
            if operator != "?=" or name not in variables:
                variables[name] = value.strip()
        elif rule and not re.match(r"(if|else|endif|-?include|vpath)\b", rule[1]):
            names = expand(rule[1], variables).split()
            if names == [".PHONY"]:
                phony += expand(rule[2].split(";")[0], variables).split()
            else:
                targets += names
    goals = [t for t in targets if "%" not in t and (not t.startswith(".") or "/" in t)]
    default = variables.get(".DEFAULT_GOAL") or (goals[0] if goals else None)
    return MakeRules(
        frozenset(t for t in targets + phony if "%" not in t),
        tuple(t for t in targets if "%" in t),
        default,
    )


def expand(text: str, variables: dict[str, str], depth: int = 0) -> str:
    """``text`` with $(VAR) and ${VAR} replaced as make would (an unknown one is empty)."""
    if depth > 10:
        return text

    def value(match: re.Match[str]) -> str:
        return expand(variables.get(match[1] or match[2], ""), variables, depth + 1)

    return re.sub(r"\$\((\w+)\)|\$\{(\w+)\}", value, text)


def make_problem(args: list[str], rules: MakeRules) -> str | None:
    goals = []
    words = iter(args)
    for word in words:
        if word in MAKE_OPTIONS_WITH_VALUE:
            next(words, None)
        elif not word.startswith("-") and not MAKE_ASSIGNMENT.match(word):
            goals.append(word)
    if not goals:
        return None if rules.default_goal else "the Makefile has no default goal"
    unknown = [goal for goal in goals if not rules.has(goal)]
    return f"the Makefile has no target {', '.join(unknown)}" if unknown else None
