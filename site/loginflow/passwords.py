"""Passwords: hashing and checking them, refusing easy ones, changing one, rehashing.

Length is checked first (forms.py), so nothing here ever sees an oversized password.
Strength comes from zxcvbn (its Rust port, zxcvbn-rs-py: fast, and it keeps no shared
state between threads), given the username and the site's own words (``SITE_WORDS``) so
that passwords built from them score low.
"""

import os
import threading
from collections.abc import Callable
from functools import cache

from flask import current_app
from sqlalchemy import update
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import Field, Form, ValidationError
from zxcvbn_rs_py import zxcvbn

from . import events, sign_ins
from .extensions import db
from .models import SignIn, User, rows_matched

# zxcvbn's work grows steeply with length; the first 48 characters show whether a
# password is common or patterned, in a few milliseconds at most.
STRENGTH_CHECKED_CHARS = 48
# zxcvbn's score 3: "safely unguessable", out of reach of an online attack.
MIN_SCORE = 3
# Words a password typed on this site borrows first, and so a guesser tries first: the
# site's name and what its pages call the act. zxcvbn ranks them just after the username.
SITE_WORDS = ("loginflow", "login", "flow", "sign in", "signin")

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


def password_matches(user: User | None, password: str) -> int | None:
    """Which version of ``user``'s password ``password`` is (see User.password_version).

    None if it is not ``user``'s password, or no account was found (``user`` None: checked
    all the same), or the password was changed while it was being checked. A wrong
    password is sent as ``sign_in_failed``, which the throttle counts. A match against a
    hash made with other settings than ``PASSWORD_HASH_METHOD`` stores a new hash.
    """
    if user is None:
        # An unknown user costs a (dummy) check too.
        verify_password(None, password)
        events.emit(events.SIGN_IN_FAILED, None)
        return None
    # Read before the check: a change committed meanwhile makes this version old.
    version, stored_hash = user.password_version, user.password_hash
    if not verify_password(stored_hash, password):
        events.emit(events.SIGN_IN_FAILED, user.username)
        return None
    if _method_of(stored_hash) != _method_of(_dummy_hash(_hash_method())):
        # Only now is the password known: the one moment an outdated hash can be replaced.
        # Only over the hash just checked, never over one a change stored meanwhile.
        rehashed = _store(user, version, hash_password(password), version)
        db.session.commit()
        if not rehashed:
            return None
    return version


def change_password(
    user: User, new_password: str, *, version: int, this_sign_in: SignIn
) -> int | None:
    """Store the new password and end every sign-in of ``user``, ``this_sign_in``'s too.

    ``version`` is the password version the current password was checked as, and
    ``this_sign_in`` the sign-in asking. Whoever knew the old password is signed out; the caller
    signs this browser in anew. Returns how many other sign-ins were ended, or None, with
    nothing changed, if the password was changed or ``this_sign_in`` ended meanwhile.
    """
    new_hash = hash_password(new_password)
    # Both in one transaction: of two changes at once only one wins, and a sign-in ended
    # by another browser cannot go on to change the password.
    if not (_store(user, version, new_hash, version + 1) and sign_ins.revoke(this_sign_in)):
        db.session.rollback()
        return None
    ended = sign_ins.end_all(user)  # commits the hash and every revocation together
    events.emit(events.PASSWORD_CHANGED, user.username)
    return ended


def _store(user: User, version: int, new_hash: str, new_version: int) -> bool:
    """Replace the hash of password ``version`` (the caller commits); False if that is no
    longer the current one."""
    stored = rows_matched(
        update(User)
        .where(User.id == user.id, User.password_version == version)
        .values(password_hash=new_hash, password_version=new_version)
    )
    return stored == 1


def guessability_problem(password: str, username: str) -> str | None:
    """Why ``password`` is easy to guess for ``username``, or None if it is not."""
    if len(username) >= 3 and username.lower() in password.lower():
        return "Leave your username out of your password."
    estimate = zxcvbn(password[:STRENGTH_CHECKED_CHARS], [username, *SITE_WORDS])
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
    method: str = current_app.config["PASSWORD_HASH_METHOD"]
    return method


def _method_of(stored_hash: str) -> str:
    """The method and parameters a hash was made with: "scrypt:32768:8:1"."""
    return stored_hash.partition("$")[0]


@cache
def _dummy_hash(method: str) -> str:
    """A hash made with ``method``: checked for unknown users, and the model of a current hash."""
    return generate_password_hash("not anyone's password", method)
