"""SECURITY.md's matrix names real code and real tests, and leaves no requirement out.

Each row of the matrix maps an OWASP ASVS 5.0.0 requirement to the code that meets it
(`module:attribute` in the loginflow package, or a template or static file) and to the
tests that prove it (`file::test`). A renamed function or test would leave the page
promising what nothing checks, so this test fails on it.
"""

import importlib
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SECURITY = PROJECT_ROOT / "SECURITY.md"

# Every requirement of ASVS 5.0.0's chapters V3, V6 and V7: section → how many it holds.
ASVS_SECTIONS = {
    "3.1": 1, "3.2": 3, "3.3": 5, "3.4": 8, "3.5": 8, "3.6": 1, "3.7": 5,
    "6.1": 3, "6.2": 12, "6.3": 8, "6.4": 6, "6.5": 8, "6.6": 4, "6.7": 2, "6.8": 4,
    "7.1": 3, "7.2": 4, "7.3": 2, "7.4": 5, "7.5": 3, "7.6": 2,
}  # fmt: skip
REQUIREMENTS = {
    f"{section}.{n}" for section, count in ASVS_SECTIONS.items() for n in range(1, count + 1)
}

ROW = re.compile(r"^\|\s*(?P<ids>\d+\.\d+\.\d+[^|]*?)\s*\|(?P<rest>.*)\|\s*$")
# "6.5.1" or a range, "6.5.1" en dash "6.5.8", within one section.
REQUIREMENT_ID = re.compile(r"(\d+\.\d+)\.(\d+)(?:\u2013\1\.(\d+))?")
CODE_SPAN = re.compile(r"`([^`]+)`")
CODE = re.compile(r"(?P<module>[a-z_]+):(?P<attribute>[A-Za-z_][\w.]*)")
FILE = re.compile(r"(?:templates|static)/[\w./-]+")
TEST = re.compile(r"(?P<file>(?:tests|e2e)/test_\w+\.py)::(?P<name>test_\w+)")


@dataclass
class Row:
    """One line of a table in SECURITY.md: its requirements and, in the matrix, its cells."""

    line: int
    requirements: list[str]
    met_by: list[str]
    proved_by: list[str]
    proof_text: str = ""  # the proof cell without its code spans: must be only commas


def rows(text: str) -> tuple[list[Row], list[Row]]:
    """The matrix's rows (five cells) and the other table's (three: id, level, why)."""
    matrix, others = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        found = ROW.match(line)
        if not found:
            continue
        cells = [cell.strip() for cell in found["rest"].split("|")]
        row = Row(number, _requirement_ids(found["ids"]), [], [])
        if len(cells) == 4:
            row.met_by = CODE_SPAN.findall(cells[2])
            row.proved_by = CODE_SPAN.findall(cells[3])
            row.proof_text = CODE_SPAN.sub("", cells[3]).replace(",", "").strip()
            matrix.append(row)
        else:
            others.append(row)
    return matrix, others


def _requirement_ids(cell: str) -> list[str]:
    """Every requirement a cell names, its ranges spelled out."""
    ids = []
    for section, first, last in REQUIREMENT_ID.findall(cell):
        ids += [f"{section}.{n}" for n in range(int(first), int(last or first) + 1)]
    return ids


def problems(matrix: list[Row], others: list[Row], collected: set[str]) -> list[str]:
    """Everything wrong with the tables, one line each."""
    found: list[str] = []
    listed: dict[str, int] = {}
    for row in matrix + others:
        for requirement in row.requirements:
            if requirement not in REQUIREMENTS:
                found.append(
                    f"line {row.line}: {requirement} is no ASVS 5.0.0 V3/V6/V7 requirement"
                )
            elif requirement in listed:
                found.append(
                    f"line {row.line}: {requirement} is listed on line {listed[requirement]} too"
                )
            listed.setdefault(requirement, row.line)
    found += [
        f"{requirement} is in neither table" for requirement in sorted(REQUIREMENTS - listed.keys())
    ]
    for row in matrix:
        where = f"line {row.line} ({', '.join(row.requirements)})"
        code = [span for span in row.met_by if CODE.fullmatch(span) or FILE.fullmatch(span)]
        tests = [span for span in row.proved_by if TEST.fullmatch(span)]
        if not code:
            found.append(f"{where}: names no code that meets it")
        if not tests or len(tests) != len(row.proved_by) or row.proof_text:
            found.append(f"{where}: every proof must be a test, file::test_name")
        found += [f"{where}: {span}: {problem}" for span in code if (problem := code_problem(span))]
        found += [f"{where}: {test} is not collected" for test in tests if test not in collected]
    return found


def code_problem(span: str) -> str | None:
    """Why ``span`` names nothing real, or None."""
    if FILE.fullmatch(span):
        return None if (PROJECT_ROOT / span).is_file() else "no such file"
    name = CODE.fullmatch(span)
    assert name is not None
    try:
        found: object = importlib.import_module(f"loginflow.{name['module']}")
    except ModuleNotFoundError:
        return f"no module loginflow.{name['module']}"
    for part in name["attribute"].split("."):
        if not hasattr(found, part):
            return f"loginflow.{name['module']} has no {name['attribute']}"
        found = getattr(found, part)
    return None


def collected_tests(files: set[str]) -> set[str]:
    """The ids pytest collects from ``files`` (a parametrized test once), as file::name."""
    present = sorted(name for name in files if (PROJECT_ROOT / name).is_file())
    if not present:
        return set()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", *present],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    ids = {line.split("[")[0] for line in result.stdout.splitlines() if "::" in line}
    assert ids, f"pytest collected nothing:\n{result.stdout}\n{result.stderr}"
    return ids


@pytest.mark.sqlite_only
def test_the_matrix_names_real_code_and_collected_tests_for_every_requirement() -> None:
    matrix, others = rows(SECURITY.read_text(encoding="utf-8"))
    named = {TEST.fullmatch(span) for row in matrix for span in row.proved_by}
    collected = collected_tests({found["file"] for found in named if found})
    found = problems(matrix, others, collected)
    assert not found, "SECURITY.md's matrix:\n" + "\n".join(found)


MADE_UP = """\
| ASVS | L | requirement | met by | proved by |
|---|---|---|---|---|
| 7.4.1 | 1 | sign-out ends the session | `auth:sign_out` | `tests/test_auth.py::test_gone` |
| 7.2.1 | 1 | checked by the backend | `auth:no_such_function` | `tests/test_auth.py::test_here` |
| 3.3.1 | 1 | secure | `templates/no_such.html`, `nowhere:thing` | a sentence |
| 9.9.9 | 1 | not ASVS | `auth:sign_out` | `tests/test_auth.py::test_here` |

| ASVS | L | why |
|---|---|---|
| 6.5.1\u20136.5.8, 7.4.1 | 2 | no second factor |
"""


def test_the_matrix_check_reports_each_kind_of_drift() -> None:
    matrix, others = rows(MADE_UP)
    found = problems(matrix, others, collected={"tests/test_auth.py::test_here"})
    assert "line 3 (7.4.1): tests/test_auth.py::test_gone is not collected" in found
    assert "line 4 (7.2.1): auth:no_such_function: loginflow.auth has no no_such_function" in found
    assert "line 5 (3.3.1): templates/no_such.html: no such file" in found
    assert "line 5 (3.3.1): nowhere:thing: no module loginflow.nowhere" in found
    assert "line 5 (3.3.1): every proof must be a test, file::test_name" in found
    assert "line 6: 9.9.9 is no ASVS 5.0.0 V3/V6/V7 requirement" in found
    assert "line 10: 7.4.1 is listed on line 3 too" in found
    assert "6.2.1 is in neither table" in found
    assert "6.5.8 is in neither table" not in found  # the range covers it
    assert not any(line.startswith("line 4 (7.2.1): tests/") for line in found)
