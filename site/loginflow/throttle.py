"""Throttling password guesses and sign-ups, on Flask-Limiter's storage.

Sign-in counts only **failures** (a wrong password: the ``sign_in_failed`` event), per
typed username and per client address, so a person who types the right password is never
slowed down, while a guesser is stopped after a few tries. Once a username is throttled
even its right password waits: otherwise the throttle would tell a guesser which guess was
right. Passwords typed while signed in (/reauth, a password change) count towards the
account's username too.

Each attempt **reserves** its place in the count before any password is checked, and
gives it back only once it turns out not to be a failure. Counting after the answer
instead (Flask-Limiter's ``deduct_when``) lets a burst of parallel guesses all pass the
check before any of them is counted. Limits are settings (``THROTTLE_*``); the counters
live where ``RATELIMIT_STORAGE_URI`` says (Redis when several instances run).
"""

import math
import time
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

import limits.errors
from flask import Flask, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from . import events, sign_ins
from .errors import render_error
from .extensions import db, limiter
from .models import User
from .settings import ConfigurationError

View = Callable[..., ResponseReturnValue]
Rule = tuple[str, Callable[[], str]]  # a THROTTLE_* setting, and what it counts by
Reservation = tuple[RateLimitItem, str, str]

# Longer typed usernames share a counter: no account has one, and keys stay small.
TYPED_USERNAME_CHARS = 64


class Throttled(TooManyRequests):
    """A limit is reached; ``retry_after`` says in how many seconds it lifts."""

    retry_after: int  # seconds; werkzeug's own attribute also allows a datetime or None

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after


def _typed_username() -> str:
    # Case-folded, as sign-in matches it, so "Alice" and "alice" share one count.
    return request.form.get("username", "").strip().lower()[:TYPED_USERNAME_CHARS]


SIGN_IN_RULES: tuple[Rule, ...] = (
    ("THROTTLE_SIGN_IN_PER_USERNAME", _typed_username),
    ("THROTTLE_SIGN_IN_PER_ADDRESS", get_remote_address),
)
# The signed-in account's count under its username: the same count as on /login, so every
# browser of the account and the sign-in page share one budget of wrong passwords.
PASSWORD_CHECK_RULES: tuple[Rule, ...] = (
    ("THROTTLE_SIGN_IN_PER_USERNAME", lambda: sign_ins.current().user.username.lower()),
)
REGISTER_RULES: tuple[Rule, ...] = (("THROTTLE_REGISTER_PER_ADDRESS", get_remote_address),)


def _counting_failures(rules: tuple[Rule, ...]) -> Callable[[View], View]:
    """A decorator: POSTs to the view are limited by ``rules``, counting only wrong passwords."""

    def decorate(view: View) -> View:
        @wraps(view)
        def throttled_view(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            if request.method != "POST":
                return view(*args, **kwargs)
            held = _reserve(rules)
            g.wrong_password = False
            try:
                return view(*args, **kwargs)
            finally:
                if not g.wrong_password:
                    _release(held)  # not a failure: it never counted

        return throttled_view

    return decorate


failed_sign_ins = _counting_failures(SIGN_IN_RULES)
failed_password_checks = _counting_failures(PASSWORD_CHECK_RULES)


def registrations(view: View) -> View:
    """Limit sign-up attempts per client address: each one may cost a password hash."""

    @wraps(view)
    def throttled_view(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if request.method == "POST":
            _reserve(REGISTER_RULES)
        return view(*args, **kwargs)

    return throttled_view


def render_throttled(error: Throttled) -> Response:
    """The friendly 429 page: when to try again, in words and in Retry-After."""
    seconds = error.retry_after
    if seconds < 120:
        wait = f"{seconds} second{'' if seconds == 1 else 's'}"
    else:
        wait = f"{math.ceil(seconds / 60)} minutes"
    response = render_error(error, message=f"Too many attempts. Please try again in {wait}.")
    response.headers["Retry-After"] = str(seconds)
    return response


def _reserve(rules: Iterable[Rule]) -> list[Reservation]:
    """Take one place in each rule's count, or raise Throttled having taken none."""
    if not limiter.enabled:
        return []
    held: list[Reservation] = []
    for setting, count_by in rules:
        for item in parse_many(current_app.config[setting]):
            place = (item, setting, count_by())
            held.append(place)
            if not limiter.limiter.hit(*place):
                _release(held)
                _report_throttled()
                stats = limiter.limiter.get_window_stats(*place)
                raise Throttled(max(1, math.ceil(stats.reset_time - time.time())))
    return held


def _release(held: list[Reservation]) -> None:
    # A fixed window's count is a plain counter, so giving a place back is a hit of cost -1.
    for place in held:
        limiter.limiter.hit(*place, cost=-1)


def _report_throttled() -> None:
    """Send ``throttled`` for the account a form named, else for the one signed in."""
    typed = request.form.get("username")
    if typed is None:
        current = sign_ins.current_or_none()
        username = current.user.username if current else None
    else:
        account = db.session.scalar(User.named(typed.strip()))
        username = account.username if account else None
    events.emit(events.THROTTLED, username)


def _note_wrong_password(app: Flask, **_: Any) -> None:
    g.wrong_password = True


def init_app(app: Flask) -> None:
    # Reservations are given back (see _release), which only a fixed window's counter allows.
    app.config["RATELIMIT_STRATEGY"] = "fixed-window"
    try:
        limiter.init_app(app)
    except limits.errors.ConfigurationError as error:
        raise ConfigurationError(f"FLASK_RATELIMIT_STORAGE_URI: {error}") from None
    app.register_error_handler(Throttled, render_throttled)
    # The one sign of a failure: passwords.password_matches sends it for each wrong password.
    events.SIGN_IN_FAILED.connect(_note_wrong_password, sender=app, weak=False)
