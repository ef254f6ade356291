"""make serve: gunicorn with loginflow/serving.py's settings."""

import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from http.client import HTTPResponse
from pathlib import Path
from types import ModuleType

import pytest

# About the server, not the database.
pytestmark = pytest.mark.sqlite_only

PRODUCTION = {
    "LOGINFLOW_CONFIG": "ProductionConfig",
    "FLASK_SECRET_KEY": json.dumps("k" * 64),
    "FLASK_TRUSTED_HOSTS": json.dumps(["127.0.0.1"]),
}


def serving_settings(monkeypatch: pytest.MonkeyPatch, **environment: str) -> ModuleType:
    for name in ("LOGINFLOW_CONFIG", "LOGINFLOW_SERVE_ANY_CONFIG", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    sys.modules.pop("loginflow.serving", None)
    return importlib.import_module("loginflow.serving")


@pytest.mark.parametrize("config", ["DevelopmentConfig", "TestingConfig", "NoSuchConfig"])
def test_serve_refuses_settings_other_than_production_with_one_line(
    monkeypatch: pytest.MonkeyPatch, config: str
) -> None:
    with pytest.raises(SystemExit) as refused:
        serving_settings(monkeypatch, LOGINFLOW_CONFIG=config)
    assert refused.value.code == (
        f"loginflow: LOGINFLOW_CONFIG={config} is not production settings: set "
        "LOGINFLOW_CONFIG=ProductionConfig, or LOGINFLOW_SERVE_ANY_CONFIG=1 to serve it anyway."
    )
    assert serving_settings(
        monkeypatch, LOGINFLOW_CONFIG=config, LOGINFLOW_SERVE_ANY_CONFIG="1"
    ).wsgi_app == ("loginflow:create_app()")


def test_serve_defaults_to_a_worker_per_core_and_takes_the_environment_s_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = serving_settings(monkeypatch, LOGINFLOW_CONFIG="ProductionConfig")
    assert (settings.workers, settings.threads, settings.bind) == (
        os.cpu_count(),
        4,
        "127.0.0.1:8000",
    )
    assert (settings.accesslog, settings.graceful_timeout, settings.certfile) == ("-", 30, None)
    settings = serving_settings(
        monkeypatch,
        LOGINFLOW_CONFIG="ProductionConfig",
        WEB_CONCURRENCY="3",
        LOGINFLOW_THREADS="8",
        LOGINFLOW_BIND="0.0.0.0:9000",
        LOGINFLOW_TLS_CERT="/etc/site.pem",
        LOGINFLOW_TLS_KEY="/etc/site.key",
    )
    assert (settings.workers, settings.threads, settings.bind) == (3, 8, "0.0.0.0:9000")
    assert (settings.certfile, settings.keyfile) == ("/etc/site.pem", "/etc/site.key")


def test_gunicorn_serves_pages_logs_each_request_and_stops_gracefully(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "LOGINFLOW_"))}
    env |= PRODUCTION | {
        "LOGINFLOW_BIND": f"127.0.0.1:{port}",
        "LOGINFLOW_INSTANCE_PATH": str(tmp_path),
        "WEB_CONCURRENCY": "1",
    }
    with (tmp_path / "gunicorn.log").open("w+") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:loginflow.serving"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            page = _get_when_up(f"http://127.0.0.1:{port}/login")
            assert page.status == 200
            assert page.headers["Strict-Transport-Security"] == "max-age=63072000"
            assert page.headers["Set-Cookie"].startswith("__Host-session=")
        finally:
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=40) == 0  # graceful: workers finish, then the master exits
            log.seek(0)
            output = log.read()
    assert '"GET /login HTTP/1.1" 200' in output  # the access log
    assert "Handling signal: term" in output


def _get_when_up(url: str) -> HTTPResponse:
    deadline = time.monotonic() + 30
    while True:
        try:
            answer: HTTPResponse = urllib.request.urlopen(url, timeout=5)  # noqa: S310
            return answer
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
