"""``make bench``: start the sites, measure them in alternating rounds, print the table.

    python -m bench [--rounds 5] [--seconds 4] [--connections 4] [--json bench/results.json]

Every server started is stopped on the way out, on an error or Ctrl-C too; their
databases and logs live in a temporary folder that goes with them.
"""

import argparse
import os
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType

from . import sites, wrk
from .memory import crowd_sign_in
from .rounds import Target, measure
from .servers import GUNICORN_SETTINGS, Servers
from .table import describe, machine, render, render_costs, summary, write

DEFAULT_JSON = Path(__file__).with_name("results.json")
# Lines in loginflow's security log that mean the bench itself went wrong: a refused
# sign-in, the throttle, a cookie taken for stolen, a session that timed out.
FORBIDDEN_EVENTS = ("sign_in_failed", "throttled", "remember_theft", "session_timeout")


def main(argv: list[str] | None = None) -> int:
    options = _arguments(argv)
    try:
        wrk.ensure_installed()
    except wrk.NoWrk as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _exit_on_signal)  # so the servers are stopped then too
    load_at_start = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="loginflow-bench-") as folder,
        Servers(Path(folder)) as servers,
    ):
        try:
            _say("starting loginflow, the comparison site and a bare Flask route (gunicorn)")
            loginflow = sites.start_loginflow(servers, Path(folder))
            comparison, comparison_page, comparison_home = sites.start_comparison(
                servers, Path(folder)
            )
            bare, bare_page = sites.start_bare(servers)
            _say(f"{len(loginflow.crowd)} concurrent sign-ins, for the peak memory")
            memory = crowd_sign_in(loginflow)
            connections = options.connections
            # loginflow's page between the two it is compared with most closely.
            targets = [
                Target("bare_page", bare, bare_page, connections),
                Target("comparison_page", comparison, comparison_page, connections),
                Target("loginflow_page", loginflow.server, loginflow.page, connections),
                # The home page: what the pattern costs a page with nothing of its own to read.
                Target("comparison_home", comparison, comparison_home, connections),
                Target("loginflow_home", loginflow.server, loginflow.home, connections),
                Target("restore", loginflow.server, loginflow.pool.load(), connections),
                # One at a time: the time of one sign-in, not of a queue for the hash.
                Target("sign_in", loginflow.server, loginflow.sign_in, 1),
            ]
            _say(f"{options.rounds} rounds of {options.seconds:g} s a measurement, alternating")
            rounds = measure(
                loginflow, targets, rounds=options.rounds, seconds=options.seconds, report=_say
            )
            _check_security_log(loginflow.server.log_text())
            _say("the parts of a signed-in request, timed in-process (bench/costs.py)")
            parts = sites.costs()
        except (RuntimeError, OSError) as error:
            print(f"bench failed: {error}", file=sys.stderr)
            for server in servers.running:
                tail = "\n".join(server.log_text().splitlines()[-15:])
                print(f"--- the last lines of {server.name}'s log:\n{tail}", file=sys.stderr)
            return 1
    settings = {
        "rounds": options.rounds,
        "seconds": options.seconds,
        "connections": options.connections,
        "sign_in_connections": 1,
        "gunicorn": " ".join(GUNICORN_SETTINGS[:3]),
        "wrk_threads": 1,
    }
    result = summary(rounds, memory, settings)
    result["costs_us"] = parts
    result["machine"] = machine()
    result["load_average"] = [load_at_start, os.getloadavg()[0]]
    print(describe(result["machine"], (load_at_start, os.getloadavg()[0])))
    print(
        f"gunicorn {settings['gunicorn']} for each site; wrk 1 thread, {options.connections} "
        f"connections (POST /login: 1); {options.rounds} rounds of {options.seconds:g} s"
    )
    print(render(result))
    print(render_costs(result))
    write(result, options.json)
    return 0


def _check_security_log(log: str) -> None:
    found = {event: log.count(f"event={event} ") for event in FORBIDDEN_EVENTS}
    if any(found.values()):
        raise RuntimeError(f"loginflow's security log has events the bench must not cause: {found}")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="at least 3 (default 5)")
    parser.add_argument("--seconds", type=float, default=4, help="per measurement (default 4)")
    parser.add_argument("--connections", type=int, default=4, help="wrk's (default 4)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where results go")
    options = parser.parse_args(argv)
    if options.rounds < 3:
        parser.error("--rounds must be at least 3: the table gives medians")
    return options


def _exit_on_signal(number: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + number)


def _say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)
