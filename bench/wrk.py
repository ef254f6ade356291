"""Running wrk with drive.lua, and reading what it measured.

wrk (Debian's ``wrk``) is a load generator in C: the few thousand requests a second that
one Python worker serves cost it little, so on a small machine most of the CPU goes to the
server measured. drive.lua checks every answer (status, and a text of the page or the
redirect's target), so a fast error page is never counted as a fast page.
"""

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .client import USER_AGENT

SCRIPT = Path(__file__).with_name("drive.lua")
INSTALL_HINT = "make bench needs wrk, the load generator: apt-get install wrk"
INSTALL_COMMANDS = (["apt-get", "update"], ["apt-get", "install", "-y", "wrk"])
RESULT_LINE = re.compile(r"^wrk-result (\{.*\})$", re.MULTILINE)
NON_2XX_3XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
TIMEOUT = "10s"  # per request: a sign-in waits its turn for a password hash


class LoadFailed(RuntimeError):
    """Some request failed or was not answered as expected: nothing it measured counts."""


@dataclass(frozen=True)
class Load:
    """One kind of request, and what every answer to it must be."""

    path: str
    method: str = "GET"
    cookie: str | None = None
    body: str | None = None
    status: int = 200
    marker: str | None = None
    location: str | None = None
    pool: Path | None = None  # one cookie value a line, each sent once
    pool_cookie: str | None = None

    def arguments(self) -> list[str]:
        """drive.lua's arguments, ``key=value`` each."""
        values = {
            "method": self.method,
            "path": self.path,
            "cookie": self.cookie,
            "body": self.body,
            "status": str(self.status),
            "marker": self.marker,
            "location": self.location,
            "pool": str(self.pool) if self.pool else None,
            "pool_cookie": self.pool_cookie,
            "user_agent": USER_AGENT,
        }
        return [f"{key}={value}" for key, value in values.items() if value is not None]


@dataclass(frozen=True)
class Result:
    """What one wrk run measured."""

    requests: int
    seconds: float
    latency_p50_ms: float
    latency_mean_ms: float
    pool_taken: int = 0  # cookies of the pool used up, answered or not

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


class NoWrk(RuntimeError):
    """wrk is missing and could not be installed; the message says what to do."""


def ensure_installed() -> None:
    """Install Debian's wrk when it is missing, as root where apt-get exists; else NoWrk."""
    if shutil.which("wrk") is not None:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise NoWrk(INSTALL_HINT)
    print("bench: installing Debian's wrk package with apt-get...", flush=True)
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in INSTALL_COMMANDS:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
            raise NoWrk(f"{' '.join(command)} failed ({lines[-1]}). {INSTALL_HINT}")


def run(url: str, load: Load, *, seconds: float, connections: int) -> Result:
    """Send ``load`` to ``url`` for ``seconds`` over ``connections`` kept-alive connections.

    One wrk thread: it keeps up with one Python worker, leaves the cores to the server,
    and sends a pool's cookies in order, each once.
    """
    command = ["wrk", "--threads=1", f"--connections={connections}"]
    command += [f"--duration={seconds:g}s", f"--timeout={TIMEOUT}", f"--script={SCRIPT}"]
    command += [url + load.path, "--", *load.arguments()]
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise LoadFailed(f"wrk exited with {finished.returncode}: {finished.stderr.strip()}")
    return parse(finished.stdout, what=f"{load.method} {load.path}")


def parse(output: str, *, what: str) -> Result:
    """The result in wrk's output; LoadFailed if any request went wrong in any way."""
    found = RESULT_LINE.search(output)
    if found is None:
        raise LoadFailed(f"{what}: wrk gave no result line; its output:\n{output}")
    data = json.loads(found.group(1))
    problems = [f"{count} {kind} errors" for kind, count in data["errors"].items() if count]
    # wrk's own count of statuses from 400 up, which drive.lua's check also covers.
    non_2xx_3xx = NON_2XX_3XX.search(output)
    if non_2xx_3xx and int(non_2xx_3xx.group(1)):
        problems.append(f"{non_2xx_3xx.group(1)} non-2xx/3xx responses")
    if data["unexpected"]:
        problems.append(f"{data['unexpected']} answers not as expected (status or content)")
    if data["exhausted"]:
        problems.append(f"{data['exhausted']} requests found no unused cookie left")
    if not data["requests"]:
        problems.append("no request was answered")
    if problems:
        raise LoadFailed(f"{what}: {', '.join(problems)} in {data['requests']} requests.")
    latency = data["latency_us"]
    return Result(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        latency_p50_ms=latency["p50"] / 1000,
        latency_mean_ms=latency["mean"] / 1000,
        pool_taken=data["taken"],
    )
