"""A fresh sign-in: the password typed in this browser session, and recently.

Flask-Login marks a session fresh when the password is typed (``login_user(fresh=True)``)
and not fresh when it is restored from the remember cookie, but that flag never ages. Here
it does: the moment the password was typed is kept beside it, and the flag lapses after
``FRESH_FOR``. Views guarded by ``fresh_login_required`` then send the person to /reauth,
which asks for the password and brings them back.
"""

from flask import (
    Blueprint,
    Flask,
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
from flask_login import login_required, login_user
from sqlalchemy import update
from werkzeug.wrappers import Response

from . import events, sign_ins, throttle
from .extensions import CONFIRM_PASSWORD_VIEW, db, login_manager
from .forms import ReauthForm, add_error, entered
from .models import SignIn, utcnow
from .passwords import password_matches
from .security import return_path, safe_next

bp = Blueprint("freshness", __name__)

# Flask-Login's own flag, and the moment (seconds since the epoch) it was last set.
FRESH, FRESH_AT = "_fresh", "_fresh_at"
# Flask-Login's key for User.get_id(): the session token this browser's cookie holds.
USER_ID = "_user_id"
NOT_YOURS = "That is not your password."
ASK_AGAIN = "Please type your password again to continue."


def mark_fresh() -> None:
    """This browser session has just been given the password."""
    session[FRESH] = True
    session[FRESH_AT] = utcnow().timestamp()


def put_in_session(row: SignIn, *, fresh: bool) -> None:
    """This browser's session holds ``row``'s current session token from now on.

    ``fresh``: the password was typed just now. Everything else in the session stays: a
    new sign-in clears it first (``auth._start_session``).
    """
    row.user.current_sign_in = row
    login_user(row.user, fresh=fresh)
    if fresh:
        mark_fresh()
    else:
        session.pop(FRESH_AT, None)  # not fresh says no moment either, as a lapse does


def reauthenticate(row: SignIn) -> None:
    """The password was typed again for ``row``: a new session on the same sign-in, fresh.

    A copy of the session cookie from before that is not used within
    ``REMEMBER_ME_ROTATION_GRACE`` is dead; one used within it catches up (``renewed_from``)
    and lives on, not fresh, as this browser does. The sign-in, and its remember cookie,
    stay. If the sign-in was ended meanwhile, it stays ended.
    """
    # The token the request came with: not row's (a rehash's commit may have reloaded it),
    # nor the session's if catch_up replaced it there (a second click shares the first's).
    came_with = g.get("replaced_session_token") or session[USER_ID]
    sign_in_id = row.id
    # Compare-and-set: of tabs confirming at once, one draws the new token; the others
    # change nothing, so no tab's new token ends another's.
    db.session.execute(
        update(SignIn)
        .where(SignIn.id == sign_in_id, SignIn.session_token == came_with)
        # The replaced token stays accepted for the grace: requests already on their way
        # with it (a double click on Confirm, another tab) are not signed out.
        .values(**SignIn.new_session("password", replacing=came_with))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    # The token stored now, this request's or the winner's: every tab's response carries
    # the same live one, whichever the browser keeps last.
    renewed = db.session.scalar(SignIn.live_by("id"), {"id": sign_in_id})
    if renewed is None:
        return  # ended meanwhile (End elsewhere, a password change): no session to renew
    # Not session.clear(): this signed-in person filled the session, so nothing in it was
    # planted, and the CSRF token of forms open in other tabs stays good.
    put_in_session(renewed, fresh=True)
    events.emit(events.REAUTH, renewed.user.username)


def renewed_from(session_token: str) -> SignIn | None:
    """The live sign-in whose session a re-authentication renewed from ``session_token`` at
    most ``REMEMBER_ME_ROTATION_GRACE`` ago; else None.

    Only re-authentication records the token it replaces (``SignIn.new_session``), and
    ``session_began_at`` says when it did. The trade, as with the remember validator: a copy
    of the cookie taken before the re-authentication still gets in if used within the grace
    (and stays in, until the sign-in ends), never after it.
    """
    row = db.session.scalar(
        SignIn.live_by("previous_session_token"), {"previous_session_token": session_token}
    )
    grace = current_app.config["REMEMBER_ME_ROTATION_GRACE"]
    # Past the grace the replaced token is dead, as it was before: a copy gets no longer.
    if row is None or utcnow() - row.session_began_at > grace:
        return None
    return row


def catch_up(row: SignIn, came_with: str) -> None:
    """This request came with ``came_with``, the session token a re-authentication of
    ``row`` replaced moments ago: it goes on under ``row``'s current token.

    Its response then carries the live token, so the browser ends up with it whichever
    response it keeps last. Not fresh: a fresh view asks for the password again, so a copy
    of the old cookie gets no more than a restored session would.
    """
    g.replaced_session_token = came_with  # what reauthenticate compares, if it runs
    put_in_session(row, fresh=False)


def _lapse_stale_freshness() -> None:
    """Before each request: a session made fresh ``FRESH_FOR`` ago or more is fresh no more."""
    if request.endpoint == "static" or not session.get(FRESH):
        return
    age = utcnow().timestamp() - session.get(FRESH_AT, 0)
    if age >= current_app.config["FRESH_FOR"].total_seconds():
        session[FRESH] = False
        session.pop(FRESH_AT, None)


@login_manager.needs_refresh_handler
def ask_for_password() -> Response:
    """Send a stale session to /reauth; a form's page, not its POST, is where it returns."""
    flash(ASK_AGAIN, "info")
    return redirect(url_for(CONFIRM_PASSWORD_VIEW, next=return_path()))


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
@throttle.failed_password_checks
def reauth() -> ResponseReturnValue:
    """Type the password again: the session becomes fresh and the person goes on."""
    next_path = safe_next(request.args.get("next"))
    form = ReauthForm()
    if form.validate_on_submit():
        current = sign_ins.current()
        if password_matches(current.user, entered(form.password)) is not None:
            # A new session token (ASVS 7.2.4): a copy of the cookie from before, not used
            # within the grace, is worthless.
            reauthenticate(current)
            return redirect(next_path or url_for("account.show"))
        add_error(form.password, NOT_YOURS)
    page = render_template("reauth.html", form=form, next_path=next_path)
    return page, 422 if form.errors else 200


def init_app(app: Flask) -> None:
    app.before_request(_lapse_stale_freshness)
