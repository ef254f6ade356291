"""The table ``make bench`` prints, the machine it ran on, and the JSON it writes.

Each ratio is the median of the rounds' ratios, each round's taken from figures measured
seconds apart; the absolute figures beside it are medians too, so they show the scale
but need not divide exactly into the ratio.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from .memory import Memory
from .rounds import Rounds

LABEL = 52  # the width of the first column
PACKAGES = ("Flask", "Werkzeug", "Flask-Login", "Flask-SQLAlchemy", "SQLAlchemy", "gunicorn")


@dataclass(frozen=True)
class Goal:
    """A row of the table: the ratio's name, what it compares, and the goal it should meet."""

    key: str
    label: str
    at_least: float | None = None
    at_most: float | None = None

    def met(self, ratio: float) -> bool:
        return (self.at_least is None or ratio >= self.at_least) and (
            self.at_most is None or ratio <= self.at_most
        )

    @property
    def wording(self) -> str:
        return (
            f">= {self.at_least:.2f}x" if self.at_least is not None else f"<= {self.at_most:.2f}x"
        )


GOALS = (
    Goal("page_vs_comparison", "signed-in GET /account vs the Flask-Login site's", at_least=0.9),
    Goal("page_vs_bare", "signed-in GET /account vs a bare Flask route", at_least=0.35),
    Goal("home_vs_comparison", "signed-in GET / (home) vs the Flask-Login site's", at_least=0.9),
    Goal("sign_in_vs_hash", "POST /login vs one scrypt check in-process", at_most=1.15),
    Goal("restore_vs_page", "remember restore vs signed-in GET /account", at_most=1.5),
)


def machine() -> dict[str, Any]:
    """What the figures depend on: the CPU, the software and how busy the machine was."""
    cpu = _cpuinfo()
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return {
        "cpu": f"{cpu.get('model name', platform.processor() or 'unknown CPU')} "
        f"(family {cpu.get('cpu family', '?')}, model {cpu.get('model', '?')})",
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "packages": {name: version(name) for name in PACKAGES},
        "wrk": (wrk.stdout or wrk.stderr).split("[")[0].strip(),
    }


def summary(rounds: Rounds, memory: Memory, settings: dict[str, Any]) -> dict[str, Any]:
    """Everything the table shows, as JSON for bench/capacity.py and for the record."""
    medians = {
        name: {
            "per_second": statistics.median(r.per_second for r in results),
            "p50_ms": statistics.median(r.latency_p50_ms for r in results),
            "ms_per_request": statistics.median(1000 / r.per_second for r in results),
            "rounds_per_second": [round(r.per_second, 1) for r in results],
        }
        for name, results in rounds.results.items()
    }
    ratios = rounds.ratios()
    return {
        "settings": settings,
        "measured": medians,
        "hash_ms": statistics.median(rounds.hash_ms),
        "ratios": {
            goal.key: {
                "median": statistics.median(ratios[goal.key]),
                "rounds": [round(r, 3) for r in ratios[goal.key]],
                "goal": goal.wording,
                "met": goal.met(statistics.median(ratios[goal.key])),
            }
            for goal in GOALS
        },
        "memory": asdict(memory) | {"bound_mib": memory.bound_mib},
    }


def render(result: dict[str, Any]) -> str:
    """The one table: ratios, their goals, and the absolute figures beside them."""
    measured, ratios, memory = result["measured"], result["ratios"], result["memory"]

    def rate(name: str) -> str:
        return f"{measured[name]['per_second']:,.0f}"

    def ms(name: str) -> str:
        return f"{measured[name]['ms_per_request']:.2f}"

    beside = {
        "page_vs_comparison": f"{rate('loginflow_page')} vs {rate('comparison_page')} req/s",
        "page_vs_bare": f"{rate('loginflow_page')} vs {rate('bare_page')} req/s",
        "home_vs_comparison": f"{rate('loginflow_home')} vs {rate('comparison_home')} req/s",
        "sign_in_vs_hash": f"{measured['sign_in']['p50_ms']:.1f} vs {result['hash_ms']:.1f} ms",
        "restore_vs_page": f"{ms('restore')} vs {ms('loginflow_page')} ms a request",
    }
    lines = [f"{'':{LABEL}} {'ratio':>7}  {'goal':<9} {'':6}  measured (medians)"]
    for goal in GOALS:
        ratio = ratios[goal.key]
        verdict = "met" if ratio["met"] else "MISSED"
        lines.append(
            f"{goal.label:{LABEL}} {ratio['median']:>6.2f}x  {goal.wording:<9} {verdict:6}  "
            f"{beside[goal.key]}"
        )
    since = ", VmHWM since the start" if memory["peak_is_since_start"] else ""
    label = f"peak memory of the worker, {memory['sign_ins']} concurrent sign-ins"
    added = memory["peak_mib"] - memory["before_mib"]
    lines.append(
        f"{label:{LABEL}} {memory['peak_mib']:>4.0f} MiB  {memory['before_mib']:.0f} MiB before, "
        f"+{added:.0f} MiB in {memory['seconds']:.1f} s{since}; hashes add at most "
        f"{memory['concurrent_hashes']} at once x {memory['hash_mib']:.0f} MiB "
        f"= {memory['bound_mib']:.0f} MiB"
    )
    return "\n".join(lines)


def render_costs(result: dict[str, Any]) -> str:
    """One line: the parts of a signed-in request (bench/costs.py) and a restore's extra."""
    parts, measured = result["costs_us"], result["measured"]
    rotation_ms = (
        measured["restore"]["ms_per_request"] - measured["loginflow_page"]["ms_per_request"]
    )
    return (
        f"parts, in-process: the SignIn lookup {parts['sign_in_lookup_us']:.0f} us "
        f"(Flask-Login's db.session.get {parts['user_get_us']:.0f} us), the CSRF token "
        f"{parts['csrf_token_us']:.0f} us, the security headers {parts['headers_us']:.0f} us; "
        f"a restore's rotation and new session, from the rounds: {rotation_ms:.2f} ms"
    )


def describe(info: dict[str, Any], load: tuple[float, float]) -> str:
    """The machine line."""
    packages = ", ".join(f"{name} {v}" for name, v in info["packages"].items())
    return (
        f"machine: {info['cpu']}, {info['cores']} cores, {info['system']}; Python "
        f"{info['python']}; {packages}; {info['wrk']}; load average {load[0]:.1f} at the "
        f"start, {load[1]:.1f} at the end"
    )


def write(result: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results written to {path}", file=sys.stderr)


def _cpuinfo() -> dict[str, str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    first = text.split("\n\n")[0]
    return {
        k.strip(): v.strip() for k, _, v in (line.partition(":") for line in first.splitlines())
    }
