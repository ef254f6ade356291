"""Remember me: a revocable, rotating cookie that outlives the browser session.

The cookie holds ``selector:validator``. The selector finds the SignIn row; the
validator is compared, as a sha256 digest, with the one stored there and replaced on
every use, so a copied cookie works once at most and its reuse is detected.
"""

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Response, after_this_request, current_app, request
from sqlalchemy import update

from . import events
from .extensions import db
from .models import SignIn, rows_matched, utcnow

# What issue() makes the selector of: 12 random bytes, in base64url.
SELECTOR = re.compile(r"[\w-]{16}", re.ASCII)


def issue(row: SignIn) -> str:
    """Give ``row`` a remember token and return the cookie's value.

    The caller commits the row first and only then ``send``s the cookie, so a browser
    never holds a cookie for a row that was rolled back.
    """
    validator = secrets.token_urlsafe(32)
    row.remember_selector = secrets.token_urlsafe(12)
    row.remember_validator_hash = _digest(validator)
    row.remember_expires_at = utcnow() + current_app.config["REMEMBER_ME_DURATION"]
    return f"{row.remember_selector}:{validator}"


def send(value: str, lifetime: timedelta) -> None:
    """Set the remember cookie on this request's response, kept for ``lifetime``."""

    @after_this_request
    def set_cookie(response: Response) -> Response:
        # max_age, not expires: the browser counts from when it receives the cookie.
        max_age = int(lifetime.total_seconds())
        response.set_cookie(cookie_name(), value, max_age=max_age, **_cookie_attributes())
        return response


def forget() -> None:
    """Delete the remember cookie from the browser, if it sent one."""
    if cookie_name() not in request.cookies:
        return

    @after_this_request
    def delete_cookie(response: Response) -> Response:
        # Same name, path, secure and samesite as when set: browsers match on these.
        response.delete_cookie(cookie_name(), **_cookie_attributes())
        return response


def redeem() -> SignIn | None:
    """The live SignIn this request's remember cookie proves, rotating its validator.

    A wrong validator for a known selector means someone holds an old copy of the
    cookie: the SignIn is revoked, which signs out the thief and the owner alike.
    """
    selector, _, validator = request.cookies.get(cookie_name(), "").partition(":")
    row = None
    # Only a selector shaped like the ones issued reaches the database: a hostile cookie may
    # hold anything, NUL included, which PostgreSQL would refuse with an error.
    if SELECTOR.fullmatch(selector) and validator:
        row = db.session.scalar(
            SignIn.live_by("remember_selector"), {"remember_selector": selector}
        )
    now = utcnow()
    if row is None or not row.remembered_at(now):
        forget()
        return None

    presented = _digest(validator)
    if _same(presented, row.remember_validator_hash) and _rotate(row, presented, now):
        return row
    if row.revoked_at is not None:  # ended since it was read (End, flask sign-ins end): no theft
        forget()
        return None
    # Not the current validator, or another request rotated it a moment ago: the grace check
    # decides, on the row as that request left it (_rotate's commit reloads it).
    if _same(presented, row.remember_previous_validator_hash) and (
        row.remember_rotated_at is not None
        and now - row.remember_rotated_at <= current_app.config["REMEMBER_ME_ROTATION_GRACE"]
    ):
        # A parallel request (restored tabs) with the cookie replaced just now; the
        # browser already has, or is about to get, the new one.
        return row

    row.revoked_at = now
    db.session.commit()
    forget()
    events.emit(events.REMEMBER_THEFT, row.user.username)
    return None


def cookie_name() -> str:
    name: str = current_app.config["REMEMBER_ME_COOKIE_NAME"]
    return name


def _rotate(row: SignIn, presented: str, now: datetime) -> bool:
    """Replace the validator unless a concurrent request already did; True if this one did."""
    validator = secrets.token_urlsafe(32)
    # Compare-and-set in one UPDATE: of two requests with the same cookie, only one wins.
    replaced = rows_matched(
        update(SignIn)
        # Not a sign-in ended since it was read: a restore under way must not outlive the end.
        .where(
            SignIn.id == row.id,
            SignIn.revoked_at.is_(None),
            SignIn.remember_validator_hash == presented,
        )
        .values(
            remember_validator_hash=_digest(validator),
            remember_previous_validator_hash=presented,
            remember_rotated_at=now,
            # The new session's token in the same write: tabs restoring in parallel, which
            # lose this race and pass by the grace period, then share the winner's session
            # instead of each drawing a token that ends the one before. It replaces no live
            # session, so no previous token is kept: an idled-out cookie stays dead.
            **SignIn.new_session("remember-me"),
        )
        .execution_options(synchronize_session=False)
    )
    sign_in_id = row.id
    db.session.commit()
    # The commit expired the row and its user: one statement reloads both (two otherwise).
    db.session.scalar(SignIn.live_by("id"), {"id": sign_in_id})
    if replaced and row.remember_expires_at is not None:
        # The cookie keeps the expiry it was first given: rotation never extends it.
        send(f"{row.remember_selector}:{validator}", row.remember_expires_at - now)
    return bool(replaced)


def _cookie_attributes() -> dict[str, Any]:
    config = current_app.config
    return {
        "path": "/",
        "httponly": True,  # never readable by page scripts
        # Follow the session cookie, so one switch makes both Secure in production.
        "secure": config["SESSION_COOKIE_SECURE"],
        "samesite": config["SESSION_COOKIE_SAMESITE"],
    }


def _digest(validator: str) -> str:
    return hashlib.sha256(validator.encode()).hexdigest()


def _same(digest: str, stored: str | None) -> bool:
    # Constant-time, so response timing does not reveal how much of a guess was right.
    return stored is not None and hmac.compare_digest(digest, stored)
