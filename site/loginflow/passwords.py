"""Passwords: hashing and checking them, refusing easy ones, changing one, rehashing.

Length is checked first (forms.py), so nothing here ever sees an oversized password.
Strength comes from zxcvbn (its Rust port, zxcvbn-rs-py: fast, and it keeps no shared
state between threads), given the username so that passwords built from it score low.
"""

import os
import threading
from collections.abc import Callable
from functools import cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import Field, Form, ValidationError
from zxcvbn_rs_py import zxcvbn

from . import events, sign_ins
from .extensions import db
from .models import User

# zxcvbn's work grows steeply with length; the first 48 characters show whether a
# password is common or patterned, in a few milliseconds at most.
STRENGTH_CHECKED_CHARS = 48
# zxcvbn's score 3: "safely unguessable", out of reach of an online attack.
MIN_SCORE = 3

# scrypt takes ~32 MB per hash, and more hashes at once than cores only add memory, not
# speed: a burst of sign-ins waits here instead of growing the process without bound.
MAX_CONCURRENT_HASHES = os.cpu_count() or 2
_hash_slots = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)


def hash_password(password: str) -> str:
    with _hash_slots:
        return generate_password_hash(password, _hash_method())


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash (no such user), check a dummy one anyway.

    Either way one hash check is paid, so response time does not reveal who has an account.
    """
    with _hash_slots:
        if stored_hash is None:
            check_password_hash(_dummy_hash(_hash_method()), password)
            return False
        return check_password_hash(stored_hash, password)


def password_matches(user: User | None, password: str) -> bool:
    """Whether ``password`` is ``user``'s (None: no such account, checked all the same).

    A failure is sent as ``sign_in_failed``, which the throttle counts. A match against a
    hash made with other settings than ``PASSWORD_HASH_METHOD`` stores a new hash.
    """
    matches = verify_password(user.password_hash if user else None, password)
    if user is None or not matches:
        events.emit(events.SIGN_IN_FAILED, user.username if user else None)
        return False
    if _method_of(user.password_hash) != _method_of(_dummy_hash(_hash_method())):
        # Only now is the password known: the one moment an outdated hash can be replaced.
        user.password_hash = hash_password(password)
        db.session.commit()
    return True


def change_password(user: User, new_password: str) -> int:
    """Store the new password and end every sign-in of ``user``, this browser's too.

    Whoever knew the old password is signed out; the caller signs this browser in anew.
    Returns how many sign-ins were ended.
    """
    user.password_hash = hash_password(new_password)
    ended = sign_ins.end_all(user)  # commits the new hash and the revocations together
    events.emit(events.PASSWORD_CHANGED, user.username)
    return ended


def guessability_problem(password: str, username: str) -> str | None:
    """Why ``password`` is easy to guess for ``username``, or None if it is not."""
    if len(username) >= 3 and username.lower() in password.lower():
        return "Leave your username out of your password."
    estimate = zxcvbn(password[:STRENGTH_CHECKED_CHARS], [username])
    if int(estimate.score) >= MIN_SCORE:
        return None
    warning = estimate.feedback.warning if estimate.feedback else None
    reason = f" {warning}" if warning else ""
    return f"That password is easy to guess.{reason} Add a few unrelated words."


class NotGuessable:
    """WTForms validator: the field's password must not be easy to guess.

    ``username_of`` gives the username the password is for: a field of the form on sign-up,
    the signed-in account on a change.
    """

    def __init__(self, username_of: Callable[[Form], str | None]) -> None:
        self.username_of = username_of

    def __call__(self, form: Form, field: Field) -> None:
        problem = guessability_problem(field.data or "", self.username_of(form) or "")
        if problem:
            raise ValidationError(problem)


def _hash_method() -> str:
    return current_app.config["PASSWORD_HASH_METHOD"]


def _method_of(stored_hash: str) -> str:
    """The method and parameters a hash was made with: "scrypt:32768:8:1"."""
    return stored_hash.partition("$")[0]


@cache
def _dummy_hash(method: str) -> str:
    """A hash made with ``method``: checked for unknown users, and the model of a current hash."""
    return generate_password_hash("not anyone's password", method)
