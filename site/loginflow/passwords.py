"""Password rules: hashing, and refusing passwords that are easy to guess.

Length is checked first (forms.py), so nothing here ever sees an oversized password.
Strength comes from zxcvbn (its Rust port, zxcvbn-rs-py: fast, and it keeps no shared
state between threads), given the username so that passwords built from it score low.
"""

import os
import threading
from functools import cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import Field, Form, ValidationError
from zxcvbn_rs_py import zxcvbn

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
        return generate_password_hash(password, current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash (no such user), check a dummy one anyway.

    Either way one hash check is paid, so response time does not reveal who has an account.
    """
    with _hash_slots:
        if stored_hash is None:
            check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
            return False
        return check_password_hash(stored_hash, password)


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
    """WTForms validator: the field's password must not be easy to guess."""

    def __init__(self, username_field: str) -> None:
        self.username_field = username_field

    def __call__(self, form: Form, field: Field) -> None:
        problem = guessability_problem(field.data or "", form[self.username_field].data or "")
        if problem:
            raise ValidationError(problem)


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not anyone's password", method)
