"""The loginflow site as the browser tests see it: a real server process on 127.0.0.1."""

import http.client
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 20  # seconds
RUNNING_ON = re.compile(rb"Running on http://127\.0\.0\.1:(\d+)")
LISTENING_AT = re.compile(rb"Listening at: https?://127\.0\.0\.1:(\d+)")  # gunicorn's
# make serve's server and settings (loginflow/serving.py).
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "python:loginflow.serving"]
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
    """One running server: its address, its process and the file its output goes to.

    A gunicorn one also keeps what ``restart`` needs: the ``variables`` it was started
    with, and ``tls``, how a client outside the browser trusts its certificate if it
    speaks HTTPS. Its process leads a process ``group`` of its own, the master and its
    worker, which is killed at once: SIGTERM would wait out the browser's idle keep-alive
    connections (about 2.5 s a stop), and gunicorn 27 answers SIGQUIT, now and then, only
    after its 30 s graceful timeout. No test here needs a graceful stop; test_serving.py
    proves that one.
    """

    url: str
    process: subprocess.Popen[bytes]
    log_file: IO[bytes]
    log_path: Path
    variables: dict[str, str] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None
    group: bool = False

    def log_tail(self, lines: int = 40) -> str:
        text = ANSI_STYLE.sub("", self.log_path.read_text(errors="replace"))
        return "\n".join(text.splitlines()[-lines:])

    def log(self) -> str:
        """Everything the server has written so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.group:
            with suppress(ProcessLookupError):  # already gone, as after a failed start
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        else:
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
        env = server_environment(
            {
                "LOGINFLOW_CONFIG": "TestingConfig",
                "FLASK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'db.sqlite'}",
                "LOGINFLOW_INSTANCE_PATH": str(folder / "instance"),
                **flask_settings(SHARED_ADDRESS_LIMITS | dict(settings)),
            }
        )
        # Port 0: the system picks a free port, and the server says which in its output.
        command = [sys.executable, "-m", "flask", "--app", "loginflow", "run"]
        command += ["--host", "127.0.0.1", "--port", "0"]
        log_path = folder / "server.log"
        log_file = log_path.open("wb")
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        return Site(url="", process=process, log_file=log_file, log_path=log_path)


def server_environment(variables: Mapping[str, str]) -> dict[str, str]:
    """This process's environment, less the developer's own settings, plus ``variables``.

    FLASK_*, LOGINFLOW_*, DATABASE_URL and WEB_CONCURRENCY would change what the tests see.
    """
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FLASK_", "LOGINFLOW_"))
        and name not in ("DATABASE_URL", "WEB_CONCURRENCY")
    }
    return kept | {"PYTHONUNBUFFERED": "1", **variables}


def flask_settings(settings: Mapping[str, Any]) -> dict[str, str]:
    """``FLASK_<KEY>`` variables for ``settings``, each value as JSON (as the site reads them)."""
    return {f"FLASK_{key}": json.dumps(value) for key, value in settings.items()}


@contextmanager
def gunicorns(
    folder: Path, environments: Sequence[Mapping[str, str]], *, tls: ssl.SSLContext | None = None
) -> Iterator[list[Site]]:
    """One gunicorn per environment, as ``make serve`` runs it, each on a free port of
    127.0.0.1; every one stopped at the end, whatever happens.

    Each runs with ``server_environment(environment)``, one worker and an instance folder
    of its own, and writes to ``folder``/gunicorn-<n>.log. All are launched before any is
    waited for, so that starting two costs about what one does. With ``tls`` (how a client
    trusts the certificate that LOGINFLOW_TLS_CERT names) they are waited for over HTTPS.
    Raises ServerDidNotStart, with the output, for one that does not answer.
    """
    with ExitStack() as running:
        started = []
        for number, environment in enumerate(environments):
            variables = {
                "LOGINFLOW_INSTANCE_PATH": str(folder / f"instance-{number}"),
                "WEB_CONCURRENCY": "1",
                **environment,
            }
            site = _launch_gunicorn(folder / f"gunicorn-{number}.log", variables, 0, tls)
            running.callback(site.stop)
            started.append(site)
        for site in started:
            port = _wait_for_port(site, LISTENING_AT)
            site.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
            _wait_until_it_answers(site)
        yield started


def restart(site: Site, changes: Mapping[str, str]) -> None:
    """Stop ``site``'s gunicorn and start it again on the same port, with ``changes`` made
    to the variables it had. Its output goes on in the same log; a browser keeps its pages.
    """
    site.stop()
    port = int(site.url.rpartition(":")[2])
    again = _launch_gunicorn(site.log_path, site.variables | dict(changes), port, site.tls)
    site.process, site.log_file, site.variables = again.process, again.log_file, again.variables
    _wait_until_it_answers(site)


def _launch_gunicorn(
    log_path: Path, variables: dict[str, str], port: int, tls: ssl.SSLContext | None
) -> Site:
    env = server_environment(variables) | {"LOGINFLOW_BIND": f"127.0.0.1:{port}"}
    log_file = log_path.open("ab")
    process = subprocess.Popen(
        GUNICORN,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a group of its own, so that its worker can be killed too
    )
    return Site("", process, log_file, log_path, variables=variables, tls=tls, group=True)


def _key(settings: Mapping[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True)


def _wait_for_port(site: Site, announcement: re.Pattern[bytes] = RUNNING_ON) -> int:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and site.process.poll() is None:
        found = announcement.search(site.log_path.read_bytes())
        if found:
            return int(found.group(1))
        time.sleep(0.05)
    raise ServerDidNotStart(_failure(site))


def _wait_until_it_answers(site: Site) -> None:
    port = int(site.url.rpartition(":")[2])
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and site.process.poll() is None:
        connection: http.client.HTTPConnection = (
            http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=site.tls)
            if site.tls is not None
            else http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        )
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
