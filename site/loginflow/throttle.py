"""Throttling password guesses and sign-ups, on the counters of the ``limits`` library.

Sign-in counts only **failures** (a wrong password: the ``sign_in_failed`` event), per
typed username and per client address, so a person who types the right password is never
slowed down, while a guesser is stopped after a few tries. Once a username is throttled
even its right password waits: otherwise the throttle would tell a guesser which guess was
right. Passwords typed while signed in (/reauth, a password change) count towards the
account's username too.

Each attempt **reserves** its place in the count before any password is checked, and
gives it back only once it turns out not to be a failure. Counting after the answer
instead (as Flask-Limiter's ``deduct_when`` does) lets a burst of parallel guesses all pass
the check before any of them is counted, which is why Flask-Limiter itself is not used: its
decorators count too early or too late, and its hooks would cost every page a check.
Limits are settings (``THROTTLE_*``); the counters live where ``RATELIMIT_STORAGE_URI``
says (Redis when several instances run).
"""

import logging
import math
import time
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

import limits.errors
from flask import Flask, current_app, g, request
from flask.typing import ResponseReturnValue
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests
from werkzeug.wrappers import Response

from . import events, sign_ins
from .errors import DATABASE_RETRY_AFTER, render_error
from .extensions import db
from .models import User
from .settings import ConfigurationError

View = Callable[..., ResponseReturnValue]
Rule = tuple[str, Callable[[], str]]  # a THROTTLE_* setting, and what it counts by
Reservation = tuple[RateLimitItem, str, str]

log = logging.getLogger(__name__)

COUNTERS_UNAVAILABLE = (
    "Signing in is paused: the site cannot count attempts just now. Please try again in a minute."
)
# Longer typed usernames share a counter: no account has one, and keys stay small.
TYPED_USERNAME_CHARS = 64


class Throttled(TooManyRequests):
    """A limit is reached; ``retry_after`` says in how many seconds it lifts."""

    retry_after: int  # seconds; werkzeug's own attribute also allows a datetime or None

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after


def _client_address() -> str:
    # Behind a proxy this is the client's only once ProxyFix trusts the proxy's header.
    return request.remote_addr or ""


def _typed_username() -> str:
    # Case-folded, as sign-in matches it, so "Alice" and "alice" share one count.
    return request.form.get("username", "").strip().lower()[:TYPED_USERNAME_CHARS]


SIGN_IN_RULES: tuple[Rule, ...] = (
    ("THROTTLE_SIGN_IN_PER_USERNAME", _typed_username),
    ("THROTTLE_SIGN_IN_PER_ADDRESS", _client_address),
)
# The signed-in account's count under its username: the same count as on /login, so every
# browser of the account and the sign-in page share one budget of wrong passwords.
PASSWORD_CHECK_RULES: tuple[Rule, ...] = (
    ("THROTTLE_SIGN_IN_PER_USERNAME", lambda: sign_ins.current().user.username.lower()),
)
REGISTER_RULES: tuple[Rule, ...] = (("THROTTLE_REGISTER_PER_ADDRESS", _client_address),)


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


def render_counters_unavailable(error: StorageError) -> Response:
    """503 when the counters cannot be reached: no attempt goes uncounted meanwhile.

    Letting passwords be tried without counting them would open the door to guessing for
    as long as the counters are down; pages that count nothing go on as usual.
    """
    log.error("Throttle counters unavailable: %s", type(error.storage_error).__name__)
    response = render_error(ServiceUnavailable(), message=COUNTERS_UNAVAILABLE)
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


def counters() -> FixedWindowRateLimiter | None:
    """This app's counters, where ``RATELIMIT_STORAGE_URI`` keeps them; None if switched off."""
    counting: FixedWindowRateLimiter | None = current_app.extensions["throttle"]
    return counting


def _reserve(rules: Iterable[Rule]) -> list[Reservation]:
    """Take one place in each rule's count, or raise Throttled having taken none."""
    counting = counters()
    if counting is None:
        return []
    held: list[Reservation] = []
    for setting, count_by in rules:
        for item in parse_many(current_app.config[setting]):
            place = (item, setting, count_by())
            held.append(place)
            if not counting.hit(*place):
                _release(held)
                _report_throttled()
                stats = counting.get_window_stats(*place)
                raise Throttled(max(1, math.ceil(stats.reset_time - time.time())))
    return held


def _release(held: list[Reservation]) -> None:
    # A fixed window's count is a plain counter, so giving a place back is a hit of cost -1.
    counting = counters()
    if counting is None:  # switched off: nothing was held
        return
    try:
        for place in held:
            counting.hit(*place, cost=-1)
    except StorageError as error:
        # The answer stands; a place not given back counts as one failure more, no harm.
        log.error("Could not give back a throttle place: %s", type(error.storage_error).__name__)


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
    counting = None
    if app.config["RATELIMIT_ENABLED"]:
        try:
            # wrap_exceptions: a storage's failure arrives as one kind, StorageError.
            storage = storage_from_string(
                app.config["RATELIMIT_STORAGE_URI"],
                wrap_exceptions=True,
                **app.config["RATELIMIT_STORAGE_OPTIONS"],
            )
        except (limits.errors.ConfigurationError, TypeError) as error:
            raise ConfigurationError(f"FLASK_RATELIMIT_STORAGE_URI: {error}") from None
        # Reservations are given back (see _release), which only a fixed window's counter allows.
        counting = FixedWindowRateLimiter(storage)
    app.extensions["throttle"] = counting
    app.register_error_handler(Throttled, render_throttled)
    app.register_error_handler(StorageError, render_counters_unavailable)
    # The one sign of a failure: passwords.password_matches sends it for each wrong password.
    events.SIGN_IN_FAILED.connect(_note_wrong_password, sender=app, weak=False)
