"""The loginflow site as the browser tests see it: a real server process on 127.0.0.1."""

import http.client
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 20  # seconds
RUNNING_ON = re.compile(rb"Running on http://127\.0\.0\.1:(\d+)")
ANSI_STYLE = re.compile(r"\x1b\[[0-9;]*m")  # the dev server colours its request lines


# Every browser test comes from 127.0.0.1 and makes its own account, so the per-address
# limits are raised; the per-username limit stays as shipped. Tests may override each.
SHARED_ADDRESS_LIMITS = {
    "THROTTLE_REGISTER_PER_ADDRESS": "10000 per hour",
    "THROTTLE_SIGN_IN_PER_ADDRESS": "10000 per minute",
}


class ServerDidNotStart(RuntimeError):
    """The server exited or stayed silent; the message carries its output."""


@dataclass
class Site:
    """One running server: its address, its process and the file its output goes to."""

    url: str
    process: subprocess.Popen[bytes]
    log_file: IO[bytes]
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        text = ANSI_STYLE.sub("", self.log_path.read_text(errors="replace"))
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log_file.close()


@dataclass
class Sites:
    """Starts servers on demand, one per distinct settings, and stops them all at the end.

    Each has TestingConfig, a database of its own in ``folder`` and ``FLASK_<KEY>`` set
    from its settings (as JSON, so numbers are seconds for the durations).
    """

    folder: Path
    running: dict[str, Site] = field(default_factory=dict)
    failed: dict[str, ServerDidNotStart] = field(default_factory=dict)
    launched: int = 0

    def get(self, settings: Mapping[str, Any]) -> Site:
        key = _key(settings)
        if key not in self.running and key not in self.failed:
            self.start_all([settings])
        if key in self.failed:
            raise self.failed[key]
        return self.running[key]

    def start_all(self, wanted: Iterable[Mapping[str, Any]]) -> None:
        """Start a server for each of ``wanted`` not yet tried, side by side.

        All are launched before any is waited for, so starting three costs about what one
        does. One that does not start is remembered, and ``get`` raises its error.
        """
        starting: dict[str, Site] = {}
        try:
            for settings in wanted:
                key = _key(settings)
                if key not in self.running and key not in self.failed and key not in starting:
                    starting[key] = self._launch(settings)
            for key, site in starting.items():
                try:
                    site.url = f"http://127.0.0.1:{_wait_for_port(site)}"
                    _wait_until_it_answers(site)
                except ServerDidNotStart as error:
                    site.stop()
                    self.failed[key] = error
                else:
                    self.running[key] = site
        except BaseException:
            for site in starting.values():
                if site not in self.running.values():
                    site.stop()
            raise

    def stop_all(self) -> None:
        for site in self.running.values():
            site.stop()
        self.running.clear()

    def _launch(self, settings: Mapping[str, Any]) -> Site:
        folder = self.folder / f"site-{self.launched}"
        self.launched += 1
        folder.mkdir()
        # The developer's own FLASK_* settings must not change what the tests see.
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
        env |= {
            "LOGINFLOW_CONFIG": "TestingConfig",
            "FLASK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'db.sqlite'}",
            "LOGINFLOW_INSTANCE_PATH": str(folder / "instance"),
            "PYTHONUNBUFFERED": "1",
        }
        settings = SHARED_ADDRESS_LIMITS | dict(settings)
        env |= {f"FLASK_{key}": json.dumps(value) for key, value in settings.items()}
        # Port 0: the system picks a free port, and the server says which in its output.
        command = [sys.executable, "-m", "flask", "--app", "loginflow", "run"]
        command += ["--host", "127.0.0.1", "--port", "0"]
        log_path = folder / "server.log"
        log_file = log_path.open("wb")
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        return Site(url="", process=process, log_file=log_file, log_path=log_path)


def _key(settings: Mapping[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True)


def _wait_for_port(site: Site) -> int:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and site.process.poll() is None:
        found = RUNNING_ON.search(site.log_path.read_bytes())
        if found:
            return int(found.group(1))
        time.sleep(0.05)
    raise ServerDidNotStart(_failure(site))


def _wait_until_it_answers(site: Site) -> None:
    port = int(site.url.rpartition(":")[2])
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and site.process.poll() is None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.05)
    raise ServerDidNotStart(_failure(site))


def _failure(site: Site) -> str:
    output = site.log_path.read_text(errors="replace").strip() or "(no output)"
    return f"The loginflow server did not start; its output:\n{output}"
