"""Register, sign in, restore and sign out: the primitives, the user loader and the views.

Every way into a signed-in session goes through ``_start_session`` and every way out
through ``sign_out``, so no view can forget a step. (Typing the password again renews the
session on the same sign-in: ``freshness.reauthenticate``.)
"""

import logging

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import logout_user
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.wrappers import Response

from . import events, freshness, remember, sign_ins, throttle
from .extensions import SIGN_IN_VIEW, db, login_manager
from .forms import RegisterForm, SignInForm, add_error, entered
from .models import SignIn, User, utcnow
from .passwords import hash_password, password_matches
from .security import return_path, safe_next

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

SIGN_IN_FAILED = "Invalid username or password."


def authenticate(username: str, password: str) -> tuple[User, int] | None:
    """The user with this username and password, and which version of the password it is;
    else None, in the same time either way."""
    user = db.session.scalar(User.named(username))
    version = password_matches(user, password)
    return (user, version) if user is not None and version is not None else None


def sign_in(user: User, *, password_version: int, remember_me: bool) -> None:
    """Sign ``user`` in on this browser: a new SignIn row, a fresh session, maybe a cookie.

    ``password_version`` is the version of the password that was checked: if a change
    has made it old meanwhile, the new sign-in is dead from the start.
    """
    _end_current_sign_in()
    row = SignIn(
        user=user,
        # Cut to the column's size; NUL, which PostgreSQL refuses in text, replaced.
        user_agent=request.user_agent.string[:512].replace("\x00", "\ufffd"),
        password_version=password_version,
        **SignIn.new_session("password"),
    )
    db.session.add(row)
    token = remember.issue(row) if remember_me else None
    db.session.commit()
    # Only now, with the row stored, may the browser get a cookie that points to it.
    if token is not None:
        remember.send(token, current_app.config["REMEMBER_ME_DURATION"])
    else:
        # An older remember cookie in this browser must not bring back an earlier sign-in.
        remember.forget()
    _start_session(row, fresh=True)
    events.emit(events.SIGN_IN, user.username)


@bp.before_app_request
def restore_from_remember_cookie() -> None:
    """Before each request: no live session but a valid remember cookie starts a new one.

    The new session is not fresh: a password was not typed in this browser session. Its
    token was drawn by ``remember.redeem``, together with the new validator.
    """
    if (
        request.endpoint == "static"
        or remember.cookie_name() not in request.cookies
        or sign_ins.current_or_none() is not None
    ):
        return
    try:
        row = remember.redeem()
        if row is None:
            return
    except SQLAlchemyError as error:
        # A database that refuses writes leaves this browser signed out for now, pages
        # readable and the cookie as it was: the next request tries again.
        db.session.rollback()
        log.error("Could not restore a sign-in: %s", type(error).__name__)
        return
    _start_session(row, fresh=False)
    g.restored_sign_in = row  # so a page can say it happened on this very request
    events.emit(events.RESTORE, row.user.username)


def sign_out() -> None:
    """End this browser's sign-in for good: the row is revoked, so old cookies are dead."""
    current = sign_ins.current_or_none()
    username = current.user.username if current else None
    _end_current_sign_in()
    logout_user()
    session.clear()
    remember.forget()
    events.emit(events.SIGN_OUT, username)


def _end_current_sign_in() -> None:
    current = sign_ins.current_or_none()
    if current is not None:
        current.revoked_at = utcnow()
        db.session.commit()


def _start_session(row: SignIn, *, fresh: bool) -> None:
    # A new session: nothing set before sign-in (a planted value, an old CSRF token) survives.
    session.clear()
    freshness.put_in_session(row, fresh=fresh)


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    """The user of the live SignIn with this session token: one query; a revoked or
    timed-out row, or an older session of it, signs the browser out.

    A token that confirming the password replaced moments ago (``freshness.renewed_from``)
    still finds its sign-in, and the session goes on under the current token, not fresh.
    """
    row = db.session.scalar(SignIn.live_by("session_token"), {"session_token": session_token})
    replaced = row is None
    if replaced:
        # A second query only for a token no live session holds: a live one costs one.
        row = freshness.renewed_from(session_token)
    if row is None or not sign_ins.keep_alive(row):
        return None
    row.user.current_sign_in = row
    if replaced:
        freshness.catch_up(row, session_token)
    return row.user


@login_manager.unauthorized_handler
def ask_to_sign_in() -> Response:
    """Send to /login; a form's page, not its POST, is where the person comes back to."""
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(url_for(SIGN_IN_VIEW, next=return_path()))


@bp.route("/register", methods=["GET", "POST"])
@throttle.registrations
def register() -> ResponseReturnValue:
    """Create an account and sign in with it."""
    current = sign_ins.current_or_none()
    if current is not None:
        # Signing up would silently switch this browser to another account: sign out first.
        flash(
            f"You are signed in as {current.user.username}. Sign out first to create "
            "another account.",
            "info",
        )
        return redirect(url_for("account.show"))
    form = RegisterForm()
    if form.validate_on_submit():
        user = User(
            username=entered(form.username), password_hash=hash_password(entered(form.password))
        )
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError:
            # The unique index decides, so two simultaneous sign-ups cannot both win.
            db.session.rollback()
            add_error(form.username, "That username is taken.")
        else:
            sign_in(user, password_version=user.password_version, remember_me=False)
            flash(f"Welcome, {user.username}. Your account is ready.", "success")
            return redirect(url_for("account.show"))
    return render_template("register.html", form=form), 422 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
@throttle.failed_sign_ins
def sign_in_view() -> ResponseReturnValue:
    """Sign in with a username and password, optionally remembered."""
    next_path = safe_next(request.args.get("next"))
    if request.method == "GET" and sign_ins.current_or_none() is not None:
        return redirect(next_path or url_for("account.show"))
    form = SignInForm()
    if form.validate_on_submit():
        verified = authenticate(entered(form.username), entered(form.password))
        if verified is not None:
            user, version = verified
            sign_in(user, password_version=version, remember_me=form.remember.data)
            return redirect(next_path or url_for("account.show"))
    if not form.is_submitted():
        return render_template("sign_in.html", form=form, next_path=next_path)
    # One message and one status for every failure: nothing tells which part was wrong.
    form.form_errors.append(SIGN_IN_FAILED)
    return render_template("sign_in.html", form=form, next_path=next_path), 422


@bp.post("/logout")
def sign_out_view() -> ResponseReturnValue:
    """Sign out (POST with a CSRF token, so no other site can do it for you)."""
    sign_out()
    flash("You are signed out.", "success")
    return redirect(url_for("pages.index"))
