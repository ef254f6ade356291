"""One signal per security step, sent by the primitive that performs the step.

Listeners (the security log, ``security_log.py``) subscribe here; the code that signs
people in and out never writes a log line itself. Each signal is named for the ``event=``
value the log writes, and is sent with the app as sender and the account's username
(None when no account is known).
"""

from blinker import NamedSignal, Namespace
from flask import current_app

_events = Namespace()

SIGN_IN = _events.signal("sign_in")
SIGN_IN_FAILED = _events.signal("sign_in_failed")
SIGN_OUT = _events.signal("sign_out")
RESTORE = _events.signal("restore")
REAUTH = _events.signal("reauth")  # the password confirmed at /reauth: a new session token
REMEMBER_THEFT = _events.signal("remember_theft")
THROTTLED = _events.signal("throttled")
SESSION_TIMEOUT = _events.signal("session_timeout")
PASSWORD_CHANGED = _events.signal("password_changed")
SIGN_INS_ENDED = _events.signal("sign_ins_ended")
# The operator ended every sign-in of every account at once: sent with no username.
EVERY_SIGN_IN_ENDED = _events.signal("every_sign_in_ended")

ALL: tuple[NamedSignal, ...] = (
    SIGN_IN,
    SIGN_IN_FAILED,
    SIGN_OUT,
    RESTORE,
    REAUTH,
    REMEMBER_THEFT,
    THROTTLED,
    SESSION_TIMEOUT,
    PASSWORD_CHANGED,
    SIGN_INS_ENDED,
    EVERY_SIGN_IN_ENDED,
)


def emit(event: NamedSignal, username: str | None) -> None:
    """Send ``event`` for this app; ``username`` only of an account that exists."""
    # Flask types current_app as a Flask, which hides the proxy's _get_current_object.
    event.send(current_app._get_current_object(), username=username)  # type: ignore[attr-defined]
