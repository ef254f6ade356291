"""The three sites under test, each started the same way with a fresh database, its
accounts signed in, and the requests wrk will send made ready.

loginflow runs ``ProductionConfig`` unchanged: its cookies are Secure and ``__Host-``,
which only a browser enforces (it would not send them over plain HTTP), while the
server reads them alike over HTTP; so plain-HTTP wrk measures production's code paths,
password hashing, throttling and headers included, with no config of its own.
"""

import json
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from loginflow.config import ProductionConfig

from .client import PASSWORD, Browser, cookie_value
from .servers import PROJECT_ROOT, Server, Servers, environment
from .wrk import Load

SESSION = ProductionConfig.SESSION_COOKIE_NAME
REMEMBER = ProductionConfig.REMEMBER_ME_COOKIE_NAME
# Text each page shows only when it is what was asked for: a signed-out redirect, an error
# page or a session that was not restored never has it.
LOGINFLOW_PAGE = "Where you're signed in"
RESTORED_PAGE = "restored from the remember cookie"
COMPARISON_PAGE = "This browser"
HOME_PAGE = "Go to your account"  # the signed-in home page of both sites
BARE_PAGE = "Hello, World!"
CROWD = 50  # accounts for the concurrent sign-ins of the memory test


@dataclass
class RememberPool:
    """Unused remember cookies of loginflow, one a line in ``path``, each for one restore.

    A restore rotates the cookie, and a rotated one sent again after the grace period
    is taken for a stolen copy, so wrk sends each once; what a round used is dropped.
    """

    path: Path
    env: dict[str, str]
    values: list[str] = field(default_factory=list)
    batches: int = 0

    def top_up(self, wanted: int) -> None:
        """Mint cookies until there are ``wanted`` unused ones."""
        missing = wanted - len(self.values)
        if missing > 0:
            self.batches += 1
            minted = _fixtures(self.env, "remember", f"restore{self.batches}-", str(missing))
            self.values += minted.split()
            self._write()

    def used(self, taken: int) -> None:
        self.values = self.values[taken:]
        self._write()

    def load(self) -> Load:
        return Load("/account", pool=self.path, pool_cookie=REMEMBER, marker=RESTORED_PAGE)

    def _write(self) -> None:
        self.path.write_text("".join(f"{value}\n" for value in self.values))


@dataclass
class Loginflow:
    """loginflow running, with a signed-in reader, a sign-in form and remember cookies."""

    server: Server
    page: Load
    home: Load
    sign_in: Load
    pool: RememberPool
    crowd: list[str]  # usernames for the concurrent sign-ins


def start_loginflow(servers: Servers, folder: Path) -> Loginflow:
    env = {
        "LOGINFLOW_CONFIG": "ProductionConfig",
        "FLASK_SECRET_KEY": secrets.token_hex(32),
        "FLASK_TRUSTED_HOSTS": '["127.0.0.1"]',
        "FLASK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'loginflow.sqlite'}",
    }
    server = servers.start("loginflow", "loginflow:create_app()", env)
    # Each in an account of its own, so the page read lists one sign-in, as a person's does.
    _fixtures(env, "users", "reader", "1", "signer", "1", "remembered", "1", "crowd", str(CROWD))
    _check_restore(server.port, "remembered0")
    signer = Browser(server.port)
    form = signer.sign_in_form("signer0")
    reader = _signed_in(server.port, "reader0")
    return Loginflow(
        server=server,
        page=Load("/account", cookie=reader, marker=LOGINFLOW_PAGE),
        home=Load("/", cookie=reader, marker=HOME_PAGE),
        sign_in=Load(
            "/login",
            method="POST",
            body=urlencode(form),
            cookie=signer.cookie_header(SESSION),
            status=302,
            location="/account",
        ),
        pool=RememberPool(folder / "remember-cookies.txt", env),
        crowd=[f"crowd{i}" for i in range(CROWD)],
    )


def start_comparison(servers: Servers, folder: Path) -> tuple[Server, Load, Load]:
    """The comparison site, with its /account and its home page, each read signed in."""
    app = "bench.comparison_site:create_app()"
    env = {
        "FLASK_SECRET_KEY": secrets.token_hex(32),
        "FLASK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'comparison.sqlite'}",
    }
    server = servers.start("comparison", app, env)
    command = [sys.executable, "-m", "flask", "--app", app, "create-user", "reader"]
    _run(command, env, stdin=f"{PASSWORD}\n")
    reader = _signed_in(server.port, "reader")
    page = Load("/account", cookie=reader, marker=COMPARISON_PAGE)
    return server, page, Load("/", cookie=reader, marker=HOME_PAGE)


def start_bare(servers: Servers) -> tuple[Server, Load]:
    return servers.start("bare", "bench.bare_site:app", {}), Load("/", marker=BARE_PAGE)


def _signed_in(port: int, username: str) -> str:
    """The session cookie of ``username`` signed in, as the browser holds it after a page.

    The first page after signing in puts a CSRF token into the session (for the sign-out
    form) and so sends a new cookie; a browser keeps it, and wrk must send that one too.
    """
    browser = Browser(port)
    browser.sign_in(username)
    for _ in range(2):
        answer = browser.request("GET", "/account")
        if answer.status != 200:
            raise RuntimeError(f"/account answered {answer.status} to {username} signed in.")
    if answer.set_cookies():
        print(f"note: every /account sets a cookie: {answer.set_cookies()}", file=sys.stderr)
    return browser.cookie_header(*(name for name in browser.cookies if "session" in name))


def _check_restore(port: int, username: str) -> None:
    """One real sign-in with Remember me, then its cookie alone: the page must be restored
    and the cookie rotated, or the restore rounds would measure something else."""
    signed_in = Browser(port)
    signed_in.sign_in(username, remember=True)
    cookie = signed_in.cookies[REMEMBER]
    answer = Browser(port, {REMEMBER: cookie}).request("GET", "/account")
    rotated = cookie_value(answer, REMEMBER)
    if answer.status != 200 or RESTORED_PAGE not in answer.body or rotated in (None, cookie):
        raise RuntimeError(f"A remember cookie did not restore and rotate ({answer.status}).")


def costs() -> dict[str, float]:
    """bench/costs.py's figures, from a process of its own with a clean environment."""
    found: dict[str, float] = json.loads(_run([sys.executable, "-m", "bench.costs"], {}))
    return found


def _fixtures(env: dict[str, str], *arguments: str) -> str:
    return _run([sys.executable, "-m", "bench.fixtures", *arguments], env)


def _run(command: list[str], env: dict[str, str], stdin: str = "") -> str:
    finished = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env=environment(env),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:4])} failed:\n{finished.stderr.strip()}")
    return finished.stdout
