"""Screenshots of the site for its documentation: ``make screenshots``.

Writes docs/screenshots/{page}-{width}-{theme}.png for each page of PAGES, 1280 and 390
pixels wide, in the light and the dark theme. Each width and theme is one telling of the
same story, against a new site served in this process: alice picks the theme in the cookie
lab, sees the sign-in page, sends the registration form wrong and then right, reads her
session in the lab, signs in on a second browser with Remember me, opens her account, comes
back too late to change her password without typing it again, signs out, and sends a
sign-in form whose session cookie her browser has meanwhile dropped.

Run again with nothing changed, it writes the same bytes, so a file changes only when its
page does:

- the data is fixed: the account, the two browsers' user agents, the secret key;
- the site's one clock, ``loginflow.models.utcnow``, starts at START and moves only when
  the story moves it; the browser's time zone and locale are fixed, as static/local-time.js
  shows times in them (it reads no clock of its own);
- the tokens the cookie lab shows shortened (the session token, the CSRF token) and the
  remember token come from a seeded generator, and the server takes one request at a time,
  so they are drawn in the same order every time;
- every screenshot is taken with the caret hidden and animations stopped, at scale 1.

Fonts are this machine's: another machine may draw the same pages a little differently.
"""

import base64
import logging
import os
import random
import sys
from collections.abc import Callable, Collection, Generator, Iterator
from contextlib import ExitStack, closing, contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from tempfile import TemporaryDirectory
from threading import Thread
from unittest.mock import patch

from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from loginflow import create_app
from loginflow.config import TestingConfig
from loginflow.extensions import db

from .browser import NoChromium, choose, launch_flags
from .flows import (
    Account,
    registration,
    sign_in_by_script,
    sign_out,
    submit_and_follow,
    submit_by_script,
)
from .server import PROJECT_ROOT, server_environment

FOLDER = PROJECT_ROOT / "docs" / "screenshots"
PAGES = ("sign-in", "register-errors", "lab", "account", "reauth", "error")  # as they come
WIDTHS = (1280, 390)
THEMES = ("light", "dark")
HEIGHT = 800  # of the window; each screenshot is of the whole page
START = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
TIMEZONE, LOCALE = "Europe/Paris", "en-GB"
FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ALICE = Account("alice")
# Too short a username, a guessable password, and a confirmation that differs.
WRONG_REGISTRATION = {"username": "al", "password": "password1234", "confirm": "password1243"}
# Where the site draws the tokens a page can show: each gets the seeded generator instead.
DRAWN_IN = ("loginflow.models.secrets", "loginflow.remember.secrets", "flask_wtf.csrf.os")


class Clock:
    """Stands in for ``datetime`` in loginflow.models, whose ``utcnow()`` every module reads."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self, tz: tzinfo | None = None) -> datetime:
        return self.moment.astimezone(tz)

    def advance(self, minutes: int) -> None:
        self.moment += timedelta(minutes=minutes)


class SeededSecrets:
    """Stands in for the ``secrets`` and ``os`` modules where DRAWN_IN says, seeded."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)  # noqa: S311

    def urandom(self, size: int) -> bytes:
        return self.random.randbytes(size)

    def token_urlsafe(self, size: int = 32) -> str:
        return base64.urlsafe_b64encode(self.urandom(size)).rstrip(b"=").decode()


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's request handler, without a log line per request."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[tuple[str, Clock]]:
    """A new site, its database in ``folder``, on a free port of 127.0.0.1: its URL and clock.

    TestingConfig with a fixed key; no FLASK_* or LOGINFLOW_* variable of the caller's.
    """
    clock = Clock(START)
    seeded = SeededSecrets(0)
    settings = {
        "SECRET_KEY": "loginflow's screenshots, not a secret: " + "x" * 32,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'loginflow.sqlite'}",
    }
    config = type("ScreenshotConfig", (TestingConfig,), settings)
    environment = server_environment({"LOGINFLOW_INSTANCE_PATH": str(folder / "instance")})
    with ExitStack() as patched:
        patched.enter_context(patch("loginflow.models.datetime", clock))
        with patch.dict(os.environ, environment, clear=True):
            app = create_app(config)
        for target in DRAWN_IN:
            patched.enter_context(patch(target, seeded))
        # One request at a time, so the tokens are drawn in the order the story asks for pages.
        server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=QuietHandler)
        thread = Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.port}", clock
        finally:
            server.shutdown()
            thread.join()
            server.server_close()
            with app.app_context():
                db.engine.dispose()


def shoot(
    browser: Browser, folder: Path, width: int, theme: str, pages: Collection[str] = PAGES
) -> None:
    """Tell the story at ``width`` in ``theme``, writing each of ``pages`` into ``folder``.

    The story stops once the last of ``pages`` is written.
    """
    wanted = set(pages)
    with (
        TemporaryDirectory() as temporary,
        serve(Path(temporary)) as (url, clock),
        ExitStack() as opened,
    ):

        def new_page(user_agent: str) -> Page:
            context = browser.new_context(
                base_url=url,
                viewport={"width": width, "height": HEIGHT},
                user_agent=user_agent,
                locale=LOCALE,
                timezone_id=TIMEZONE,
                # The site goes by the theme cookie; the browser's preference agrees with it.
                color_scheme="dark" if theme == "dark" else "light",
            )
            opened.callback(context.close)
            return context.new_page()

        with closing(story(new_page, clock, theme, wide=width >= 1024)) as scenes:
            for name, page in scenes:
                if name in wanted:
                    path = folder / f"{name}-{width}-{theme}.png"
                    page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
                    wanted.discard(name)
                if not wanted:
                    break


def story(
    new_page: Callable[[str], Page], clock: Clock, theme: str, *, wide: bool
) -> Generator[tuple[str, Page], None, None]:
    """Alice's story: each page of PAGES by name as it comes on screen, with its tab.

    Her own browser is Firefox on Windows on a wide screen, Safari on an iPhone on a narrow
    one; the other is her second browser.
    """
    here, elsewhere = (FIREFOX_ON_WINDOWS, SAFARI_ON_IPHONE)[:: 1 if wide else -1]
    page = new_page(here)
    # The theme as a person picks it: in the lab, which keeps it in a cookie.
    page.goto("/cookies/")
    page.get_by_role("radio", name=theme.capitalize()).check()
    submit_and_follow(page, page.get_by_role("button", name="Save theme"), "/cookies/theme")

    page.goto("/login")
    yield "sign-in", page

    page.goto("/register")
    submit_by_script(page, WRONG_REGISTRATION, "/register")
    expect(page.locator(".error-summary li")).to_have_count(len(WRONG_REGISTRATION))
    yield "register-errors", page

    submit_by_script(page, registration(ALICE), "/register")
    page.goto("/cookies/")
    yield "lab", page

    clock.advance(minutes=3)
    sign_in_by_script(new_page(elsewhere), ALICE, remember=True)
    clock.advance(minutes=2)
    page.goto("/account")
    expect(page.locator("table.sign-ins tbody tr")).to_have_count(2)
    yield "account", page

    clock.advance(minutes=20)  # the password was typed longer ago than FRESH_FOR
    page.goto("/account/password")
    expect(page.get_by_role("heading", name="Confirm your password")).to_be_visible()
    yield "reauth", page

    # The sign-in form, sent after the browser dropped its session cookie (and with it the
    # CSRF token the form's must match), as after a restart that kept the tab.
    sign_out(page)
    page.goto("/login")
    page.context.clear_cookies(name="session")
    submit_by_script(page, {"username": ALICE.username, "password": ALICE.password}, "/login")
    expect(page.get_by_role("heading", name="This form expired")).to_be_visible()
    yield "error", page


def main() -> int:
    # The site's information lines (its migration, each sign-in) would bury what this says.
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("loginflow.security").setLevel(logging.WARNING)
    with sync_playwright() as playwright:
        try:
            executable = choose(playwright.chromium.executable_path)
        except NoChromium as error:
            print(f"e2e: {error}", file=sys.stderr)
            return 1
        browser = playwright.chromium.launch(executable_path=executable, args=launch_flags())
        FOLDER.mkdir(parents=True, exist_ok=True)
        for width in WIDTHS:
            for theme in THEMES:
                shoot(browser, FOLDER, width, theme)
        browser.close()
    count = len(PAGES) * len(WIDTHS) * len(THEMES)
    print(f"e2e: wrote {count} screenshots into {FOLDER.relative_to(PROJECT_ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
