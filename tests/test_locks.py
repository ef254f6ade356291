"""The lock files hold what pyproject.toml asks for, each with hashes.

make installs from requirements/*.txt alone (pip --require-hashes), so a dependency added
to pyproject.toml without `make lock` would be missing; this test says so first.
"""

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

# About the installs, not the database.
pytestmark = pytest.mark.sqlite_only

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
LOCKS = {"run": ["serve"], "test": ["test"], "lint": ["test", "lint"], "mutate": ["test", "mutate"]}
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;]+)")


def required(extras: list[str]) -> list[Requirement]:
    """The project's dependencies with ``extras``, its own extras (loginflow[serve]) unfolded."""
    wanted = [Requirement(line) for line in PYPROJECT["dependencies"]]
    pending = list(extras)
    while pending:
        for line in PYPROJECT["optional-dependencies"][pending.pop()]:
            requirement = Requirement(line)
            if canonicalize_name(requirement.name) == "loginflow":
                pending += sorted(requirement.extras)
            else:
                wanted.append(requirement)
    return wanted


def pinned(lock: str) -> dict[str, Version]:
    text = (PROJECT_ROOT / "requirements" / f"{lock}.txt").read_text()
    entries = re.split(r"\n(?=\S)", text)
    pins = {}
    for entry in entries:
        if match := PIN.match(entry):
            assert "--hash=sha256:" in entry, f"{lock}.txt pins {match[1]} without a hash"
            pins[canonicalize_name(match[1])] = Version(match[2])
    return pins


@pytest.mark.parametrize(("lock", "extras"), LOCKS.items())
def test_each_lock_pins_every_requirement_at_a_version_pyproject_allows(
    lock: str, extras: list[str]
) -> None:
    pins = pinned(lock)
    wrong = [
        f"{requirement} (locked: {pins.get(canonicalize_name(requirement.name), 'absent')})"
        for requirement in required(extras)
        if requirement.marker is None or requirement.marker.evaluate()
        if pins.get(canonicalize_name(requirement.name)) not in requirement.specifier
    ]
    assert wrong == [], f"run make lock: requirements/{lock}.txt lacks {wrong}"


def test_the_locks_agree_on_every_version_they_share() -> None:
    test = pinned("test")
    for lock in ("run", "lint", "mutate"):
        pins = pinned(lock)
        assert {n: v for n, v in pins.items() if n in test and test[n] != v} == {}, lock
