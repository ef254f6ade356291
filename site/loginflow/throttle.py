"""Throttling password guesses and sign-ups with Flask-Limiter.

Sign-in counts only **failures**, per typed username and per client address, so a person
who types the right password is never slowed down, while a guesser is stopped after a few
tries. Once a username is throttled even its right password waits: otherwise the throttle
would tell a guesser which guess was right. Limits are settings (``THROTTLE_*``); the
counters live where ``RATELIMIT_STORAGE_URI`` says (Redis when several instances run).
"""

import math
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, request
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address

from . import events
from .errors import render_error
from .extensions import db, limiter
from .models import User

View = Callable[..., object]
# Longer typed usernames share a counter: no account has one, and keys stay small.
TYPED_USERNAME_CHARS = 64


def failed_sign_ins(view: View) -> View:
    """Limit failed sign-ins (answered 422) per typed username and per client address."""
    for setting, key_func in (
        ("THROTTLE_SIGN_IN_PER_USERNAME", _typed_username),
        ("THROTTLE_SIGN_IN_PER_ADDRESS", _address),
    ):
        view = limiter.limit(
            _setting(setting),
            key_func=key_func,
            methods=["POST"],
            deduct_when=_failed,
            on_breach=_report_throttled,
        )(view)
    return view


def registrations(view: View) -> View:
    """Limit sign-up attempts per client address: each one may cost a password hash."""
    return limiter.limit(
        _setting("THROTTLE_REGISTER_PER_ADDRESS"),
        key_func=_address,
        methods=["POST"],
        on_breach=_report_throttled,
    )(view)


def render_throttled(error: RateLimitExceeded) -> Response:
    """The friendly 429 page: when to try again, in words and in Retry-After."""
    current = limiter.current_limit
    reset_at = current.window[0] if current is not None else time.time() + 60
    seconds = max(1, math.ceil(reset_at - time.time()))
    wait = f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    response = render_error(error, message=f"Too many attempts. Please try again in {wait}.")
    response.headers["Retry-After"] = str(seconds)
    return response


def _setting(key: str) -> Callable[[], str]:
    return lambda: current_app.config[key]


def _typed_username() -> str:
    # Case-folded, as sign-in matches it, so "Alice" and "alice" share one count.
    return "username:" + request.form.get("username", "").strip().lower()[:TYPED_USERNAME_CHARS]


def _address() -> str:
    return "address:" + get_remote_address()


def _failed(response: Response) -> bool:
    return response.status_code == 422


def _report_throttled(_limit: object) -> None:
    account = db.session.scalar(User.named(request.form.get("username", "").strip()))
    events.emit(events.THROTTLED, account.username if account else None)


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, render_throttled)
