"""Starting each site under gunicorn with the same settings, and stopping them whatever happens.

Every site gets one worker process with four threads (gunicorn's gthread worker), the
same for all, so a ratio compares the sites and not their servers. Each listens on a port
of 127.0.0.1 that the system picks: the socket is opened here and handed to gunicorn,
so no other process can take the port in between.
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

PROJECT_ROOT = Path(__file__).resolve().parents[1]
WORKER_THREADS = 4
GUNICORN_SETTINGS = (
    "--workers=1",
    "--worker-class=gthread",
    f"--threads={WORKER_THREADS}",
    "--log-level=warning",  # gunicorn's own lines; the sites' loggers keep their levels
    "--error-logfile=-",
    "--no-control-socket",  # else every server would share one in the home folder
    "--graceful-timeout=5",
)
STARTUP_TIMEOUT = 30  # seconds
STOP_TIMEOUT = 10  # seconds


class ServerDidNotStart(RuntimeError):
    """A server exited or did not answer; the message carries its output."""


@dataclass
class Server:
    """One running site: its port, its gunicorn master process and the file of its output."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pid(self) -> int:
        """The pid of the one worker (the master's only child), which serves every request."""
        children = _child_pids(self.process.pid)
        if len(children) != 1:
            raise RuntimeError(f"{self.name}: expected one gunicorn worker, found {children}.")
        return children[0]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # master and worker alike
                self.process.wait()
        self.log_file.close()


class Servers:
    """The running servers; leaving the ``with`` block stops every one, on error too."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: list[Server] = []

    def __enter__(self) -> "Servers":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_all()

    def start(self, name: str, app: str, env: Mapping[str, str]) -> Server:
        """Serve ``app`` (gunicorn's "module:variable" or "module:factory()") with ``env``."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        port = listener.getsockname()[1]
        log_path = self.folder / f"{name}.log"
        log_file = log_path.open("wb")
        try:
            command = [sys.executable, "-m", "gunicorn", f"--bind=fd://{listener.fileno()}"]
            process = subprocess.Popen(
                [*command, *GUNICORN_SETTINGS, app],
                cwd=PROJECT_ROOT,
                env=environment(env),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                pass_fds=(listener.fileno(),),
                # Its own process group: Ctrl-C reaches this driver, which stops it in order.
                start_new_session=True,
            )
        except BaseException:
            log_file.close()
            raise
        finally:
            listener.close()  # gunicorn holds its own copy
        server = Server(name, port, process, log_path, log_file)
        self.running.append(server)
        _wait_until_it_answers(server)
        return server

    def stop_all(self) -> None:
        while self.running:
            self.running.pop().stop()


def environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment with ``settings``; the developer's own settings for the
    sites (FLASK_*, LOGINFLOW_*, DATABASE_URL) left out, so they cannot change what is
    measured."""
    own = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "LOGINFLOW_"))}
    own.pop("DATABASE_URL", None)
    return own | dict(settings)


def vm_peak_resident(pid: int) -> int:
    """The most memory ``pid`` has held resident (VmHWM), in bytes."""
    return _status_kilobytes(pid, "VmHWM") * 1024


def vm_resident(pid: int) -> int:
    """The memory ``pid`` holds resident now (VmRSS), in bytes."""
    return _status_kilobytes(pid, "VmRSS") * 1024


def reset_peak_resident(pid: int) -> bool:
    """Start ``pid``'s VmHWM afresh from what it holds now; False where Linux does not allow it."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _status_kilobytes(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {key}.")


def _child_pids(parent: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command may hold spaces and parentheses: the fields after its last ")".
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # it ended meanwhile
        if int(fields[1]) == parent:
            children.append(int(entry.name))
    return children


def _wait_until_it_answers(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and server.process.poll() is None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        try:
            connection.request("GET", "/")
            if connection.getresponse().status == 200 and _child_pids(server.process.pid):
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    output = server.log_text().strip() or "(no output)"
    raise ServerDidNotStart(f"{server.name} did not start under gunicorn; its output:\n{output}")
