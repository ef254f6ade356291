"""Every browser a person is signed in on: listing them, ending them, and timeouts.

A SignIn is **in force** while it is not revoked and either

- its remember cookie is still valid (the browser may restore a session from it), or
- it was used within ``SIGN_IN_IDLE_TIMEOUT`` and begun within ``SIGN_IN_ABSOLUTE_TIMEOUT``.

The server enforces this, not the browser: a copied session cookie stops working when
its sign-in times out, even though the cookie itself never expires.
"""

import logging
from datetime import datetime, timedelta
from functools import cache

from flask import (
    Flask,
    after_this_request,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    or_,
    true,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from . import events
from .errors import DATABASE_UNAVAILABLE
from .extensions import db
from .models import SignIn, User, rows_matched, utcnow
from .security import return_path
from .wording import duration

log = logging.getLogger(__name__)

# A moment in SQL: a time, or a parameter of a statement built once.
Moment = datetime | BindParameter[datetime]

# last_seen_at is written at most this often per sign-in, and at least ten times per idle
# timeout, so that idling out is decided within a tenth of the timeout.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)


def current() -> SignIn:
    """This browser's sign-in, in a view behind ``login_required``; its ``user`` is who."""
    row = current_or_none()
    if row is None:
        raise RuntimeError("Nobody is signed in: the view needs login_required.")
    return row


def current_or_none() -> SignIn | None:
    """This browser's sign-in, or None: Flask-Login's ``current_user``, typed.

    The first call in a request loads it (auth.load_user), which may end a timed-out session.
    """
    user = current_user._get_current_object()
    return user.current_sign_in if isinstance(user, User) else None


def of(user: User) -> list[SignIn]:
    """The user's sign-ins in force, newest first: what "Where you're signed in" lists."""
    now = utcnow()
    config = current_app.config
    times = {
        "now": now,
        "seen_after": now - config["SIGN_IN_IDLE_TIMEOUT"],
        "begun_after": now - config["SIGN_IN_ABSOLUTE_TIMEOUT"],
    }
    return list(db.session.scalars(_of_user(), {"user_id": user.id, **times}))


def in_force(at: datetime) -> ColumnElement[bool]:
    """SQL: the sign-in's time has not run out at ``at`` (revocation is checked apart)."""
    config = current_app.config
    return _in_force(
        at, at - config["SIGN_IN_IDLE_TIMEOUT"], at - config["SIGN_IN_ABSOLUTE_TIMEOUT"]
    )


def _in_force(now: Moment, seen_after: Moment, begun_after: Moment) -> ColumnElement[bool]:
    return or_(
        and_(SignIn.remember_expires_at.is_not(None), SignIn.remember_expires_at > now),
        and_(SignIn.last_seen_at > seen_after, SignIn.created_at > begun_after),
    )


@cache
def _of_user() -> Select[SignIn]:
    """``of``'s statement, built once with parameters: /account runs it on every visit."""
    return (
        SignIn.live()
        .where(
            SignIn.user_id == bindparam("user_id"),
            _in_force(bindparam("now"), bindparam("seen_after"), bindparam("begun_after")),
        )
        .order_by(SignIn.created_at.desc(), SignIn.id.desc())
    )


def timeout(sign_in: SignIn, now: datetime) -> str | None:
    """Why this sign-in's session may not go on at ``now``, in words; None if it may.

    The Python twin of ``in_force`` (tests hold the two to the same answers), needed
    because the page must say which limit was reached.
    """
    config = current_app.config
    idle, absolute = config["SIGN_IN_IDLE_TIMEOUT"], config["SIGN_IN_ABSOLUTE_TIMEOUT"]
    if now - sign_in.last_seen_at >= idle:
        return f"You were signed out after {duration(idle)} without activity."
    if now - sign_in.created_at >= absolute and not sign_in.remembered_at(now):
        return f"You were signed out {duration(absolute)} after signing in."
    return None


def keep_alive(sign_in: SignIn) -> bool:
    """Let this request go on under ``sign_in``'s session, unless the session timed out.

    A timed-out session is ended here and False returned. The sign-in itself is revoked,
    unless it is remembered: then the remember cookie starts a new, not fresh, session.
    """
    now = utcnow()
    reason = timeout(sign_in, now)
    if reason is None:
        if now - sign_in.last_seen_at >= last_seen_resolution():
            _note_seen_after_the_page(sign_in.id, now)
        return True
    if not sign_in.remembered_at(now):
        try:
            revoke(sign_in)
            db.session.commit()
        except SQLAlchemyError as error:
            # The session ends anyway, and the row is out of force by its times alone.
            db.session.rollback()
            log.error("Could not revoke a timed-out sign-in: %s", type(error).__name__)
    session.clear()
    g.sign_in_timeout = reason
    events.emit(events.SESSION_TIMEOUT, sign_in.user.username)
    return False


def end(sign_in: SignIn) -> bool:
    """Revoke one sign-in: its session and remember cookies stop working at once.

    False if it had ended already (another request may have ended it a moment ago).
    """
    ended = revoke(sign_in)
    db.session.commit()
    if ended:
        events.emit(events.SIGN_INS_ENDED, sign_in.user.username)
    return ended


def revoke(sign_in: SignIn) -> bool:
    """Revoke one sign-in in the caller's transaction; False if it was revoked already."""
    return _revoke(SignIn.id == sign_in.id, utcnow()) == 1


def end_all(user: User, *, keep: SignIn | None = None) -> int:
    """Revoke every sign-in of ``user`` but ``keep``; how many of them were in force.

    Those already out of force are revoked too, so that no later, longer timeout setting
    can bring one back. With ``keep``, only sign-ins of its password version: one made by a
    password change racing this request is newer, and not ``keep``'s to end.
    """
    which = SignIn.user_id == user.id
    if keep is not None:
        which = and_(which, SignIn.id != keep.id, SignIn.password_version == keep.password_version)
    ended = _end_every(which)
    events.emit(events.SIGN_INS_ENDED, user.username)
    return ended


def end_everyone() -> int:
    """Revoke every sign-in of every account; how many of them were in force.

    The operator's answer to a breach of the site itself, when any account's cookies may be
    in other hands: every session and remember cookie stops working at its next request.
    """
    ended = _end_every(true())
    events.emit(events.EVERY_SIGN_IN_ENDED, None)
    return ended


def _end_every(which: ColumnElement[bool]) -> int:
    """Revoke the sign-ins ``which`` selects and commit; how many were in force."""
    now = utcnow()
    ended = _revoke(and_(which, in_force(now)), now)
    _revoke(which, now)
    db.session.commit()
    return ended


def purge(older_than: timedelta) -> int:
    """Delete sign-ins revoked, or out of force, more than ``older_than`` ago."""
    cutoff = utcnow() - older_than
    deleted = rows_matched(
        delete(SignIn)
        .where(or_(SignIn.revoked_at < cutoff, ~in_force(cutoff)))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return deleted


def last_seen_resolution() -> timedelta:
    idle: timedelta = current_app.config["SIGN_IN_IDLE_TIMEOUT"]
    return min(LAST_SEEN_RESOLUTION, idle / 10)


def _revoke(which: ColumnElement[bool], now: datetime) -> int:
    return rows_matched(
        update(SignIn).where(which, SignIn.revoked_at.is_(None)).values(revoked_at=now)
    )


def _note_seen_after_the_page(sign_in_id: int, now: datetime) -> None:
    """Write ``last_seen_at`` once the page is built: a failed write cannot spoil the page."""

    @after_this_request
    def note_seen(response: Response) -> Response:
        try:
            # Not if a parallel request (another tab) wrote it a moment ago: one write, not ten.
            recently = now - last_seen_resolution()
            db.session.execute(
                update(SignIn)
                .where(SignIn.id == sign_in_id, SignIn.last_seen_at <= recently)
                .values(last_seen_at=now)
            )
            db.session.commit()
        except SQLAlchemyError as error:
            # Only a hint for people reviewing their sign-ins: log it and serve the page.
            db.session.rollback()
            log.error("Could not note a sign-in as seen: %s", type(error).__name__)
        return response


def _send_timed_out_to_sign_in() -> Response | None:
    """A request whose session just timed out goes to the sign-in page, told why."""
    if request.endpoint == "static":
        return None
    try:
        # Load the user now, not when the page is drawn, so that a timeout is found now.
        signed_in = current_or_none() is not None
    except DATABASE_UNAVAILABLE:
        # Undecided: the page itself meets the outage and shows what suits it.
        db.session.rollback()
        return None
    reason = g.pop("sign_in_timeout", None)
    if signed_in or reason is None:
        return None
    flash(f"{reason} Please sign in again.", "info")
    return redirect(url_for("auth.sign_in_view", next=return_path()))


def init_app(app: Flask) -> None:
    # After the remember cookie's restore (auth.py's before_app_request), so that a
    # remembered sign-in that idled out gets its new session instead of this redirect.
    app.before_request(_send_timed_out_to_sign_in)
