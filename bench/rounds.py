"""The measurements, in alternating rounds, and the ratios each round gives.

Each round measures every kind of request once, one after the other, so that a ratio
compares figures taken seconds apart, under the same load from whatever else the machine
runs; the table reports each ratio's median over the rounds. The order turns by one each
round (ABCDE, BCDEA, ...): no kind always goes first, and the kinds compared stay
neighbours in time.
"""

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.security import check_password_hash, generate_password_hash

from loginflow.config import Config

from .client import PASSWORD
from .servers import Server
from .sites import Loginflow
from .wrk import Load, LoadFailed, Result, run

WARM_UP_SECONDS = 1.0
HASH_CHECKS_PER_ROUND = 5
# Cookies for a restore round: what the fastest round so far would use, and a margin.
POOL_MARGIN, POOL_EXTRA = 1.5, 100
RESTORE_EVENT = "event=restore "


@dataclass(frozen=True)
class Target:
    """A kind of request: where it goes, and how many connections send it."""

    name: str
    server: Server
    load: Load
    connections: int


@dataclass
class Rounds:
    """Every round's results by target name, and the in-process hash times (ms)."""

    results: dict[str, list[Result]] = field(default_factory=dict)
    hash_ms: list[float] = field(default_factory=list)

    def ratios(self) -> dict[str, list[float]]:
        """Each round's ratios, by name (the table's rows)."""
        pages, comparison = self.results["loginflow_page"], self.results["comparison_page"]
        bare, restores = self.results["bare_page"], self.results["restore"]
        sign_ins = self.results["sign_in"]
        return {
            "page_vs_comparison": _each(
                pages, comparison, lambda a, b: a.per_second / b.per_second
            ),
            "page_vs_bare": _each(pages, bare, lambda a, b: a.per_second / b.per_second),
            "home_vs_comparison": _each(
                self.results["loginflow_home"],
                self.results["comparison_home"],
                lambda a, b: a.per_second / b.per_second,
            ),
            # Time per request at the same concurrency: the inverse of the rates' ratio.
            "restore_vs_page": _each(restores, pages, lambda a, b: b.per_second / a.per_second),
            "sign_in_vs_hash": [
                r.latency_p50_ms / h for r, h in zip(sign_ins, self.hash_ms, strict=True)
            ],
        }


def measure(
    loginflow: Loginflow,
    targets: list[Target],
    *,
    rounds: int,
    seconds: float,
    report: Callable[[str], None],
) -> Rounds:
    """Warm every target up, then measure them all in ``rounds`` alternating rounds."""
    stored_hash = generate_password_hash(PASSWORD, Config.PASSWORD_HASH_METHOD)
    fastest: dict[str, float] = {}  # requests a second, by target
    measured = Rounds()

    def one(target: Target, duration: float) -> Result:
        if target.name == "restore":
            # Until a restore round has run, a signed-in page's rate is the guess: a restore
            # does what that page does and more.
            rate = fastest.get("restore", fastest.get("loginflow_page", 500.0))
            loginflow.pool.top_up(math.ceil(rate * duration * POOL_MARGIN) + POOL_EXTRA)
            result = _restores(target, duration, loginflow)
        else:
            url, load = target.server.url, target.load
            result = run(url, load, seconds=duration, connections=target.connections)
        fastest[target.name] = max(fastest.get(target.name, 0.0), result.per_second)
        return result

    for target in targets:
        one(target, WARM_UP_SECONDS)
    for number in range(rounds):
        turn = number % len(targets)
        order = targets[turn:] + targets[:turn]
        for target in order:
            result = one(target, seconds)
            measured.results.setdefault(target.name, []).append(result)
            if target.name == "sign_in":
                measured.hash_ms.append(_hash_ms(stored_hash))
        report(f"round {number + 1} of {rounds} done")
    return measured


def _restores(target: Target, seconds: float, loginflow: Loginflow) -> Result:
    """A restore round, checked against the security log: one restore per cookie sent."""
    before = loginflow.server.log_text().count(RESTORE_EVENT)
    result = run(target.server.url, target.load, seconds=seconds, connections=target.connections)
    loginflow.pool.used(result.pool_taken)
    time.sleep(0.2)  # requests in flight when wrk stopped are still answered
    restored = loginflow.server.log_text().count(RESTORE_EVENT) - before
    if not result.requests <= restored <= result.pool_taken:
        raise LoadFailed(
            f"restores: {result.requests} answered and {result.pool_taken} cookies sent, "
            f"but the security log has {restored} restores."
        )
    return result


def _hash_ms(stored_hash: str) -> float:
    """One password check the production way, in this process: the median of a few."""
    times = []
    for _ in range(HASH_CHECKS_PER_ROUND):
        start = time.perf_counter()
        if not check_password_hash(stored_hash, PASSWORD):
            raise RuntimeError("The password check failed.")
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _each(
    first: list[Result], second: list[Result], ratio: Callable[[Result, Result], float]
) -> list[float]:
    return [ratio(a, b) for a, b in zip(first, second, strict=True)]
