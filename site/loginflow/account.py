"""The signed-in user's own pages: the account, its sign-ins, and changing the password."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import fresh_login_required, login_fresh, login_required
from werkzeug.wrappers import Response

from . import sign_ins, throttle
from .auth import sign_in, sign_out
from .extensions import db
from .forms import ChangePasswordForm, add_error, entered
from .models import SignIn, utcnow
from .passwords import change_password, password_matches
from .wording import browser_name

bp = Blueprint("account", __name__, url_prefix="/account")


bp.add_app_template_filter(browser_name, "browser_name")


@bp.get("")
@login_required
def show() -> str:
    """Who you are, how this browser's session came to be, and every browser signed in."""
    current = sign_ins.current()
    return render_template(
        "account.html",
        this_sign_in=current,
        sign_ins=sign_ins.of(current.user),
        fresh=login_fresh(),
        now=utcnow(),
    )


# The largest id a database integer holds: a longer number is no sign-in (404), not an error.
@bp.post(f"/sign-ins/<int(max={2**63 - 1}):sign_in_id>/end")
@fresh_login_required
def end_sign_in(sign_in_id: int) -> Response:
    """End another browser's sign-in: its next request is signed out."""
    current = sign_ins.current()
    row = db.session.get(SignIn, sign_in_id)
    # Another account's sign-in answers like one that never existed; so does one made after
    # a password change this browser's sign-in predates (it is ended, or about to be).
    if (
        row is None
        or row.user_id != current.user_id
        or row.password_version != current.password_version
    ):
        abort(404)
    if row.id == current.id:
        flash("To end this browser's sign-in, use Sign out.", "info")
    elif sign_ins.end(row):
        flash(f"{browser_name(row.user_agent)} is signed out.", "success")
    else:
        flash(f"{browser_name(row.user_agent)} was already signed out.", "info")
    return redirect(url_for("account.show"))


@bp.post("/sign-out-everywhere-else")
@fresh_login_required
def sign_out_everywhere_else() -> Response:
    """End every sign-in of this account but this browser's."""
    current = sign_ins.current()
    ended = sign_ins.end_all(current.user, keep=current)
    flash(f"Signed out of {_browsers(ended)}. This browser stays signed in.", "success")
    return redirect(url_for("account.show"))


@bp.post("/sign-out-everywhere")
@fresh_login_required
def sign_out_everywhere() -> Response:
    """End every sign-in of this account, this browser's last."""
    current = sign_ins.current()
    sign_ins.end_all(current.user, keep=current)
    sign_out()
    flash("You are signed out everywhere.", "success")
    return redirect(url_for("pages.index"))


@bp.route("/password", methods=["GET", "POST"])
@fresh_login_required
@throttle.failed_password_checks
def change_password_page() -> ResponseReturnValue:
    """Change the password: every other browser is signed out, this one starts anew."""
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _password_page(form)
    current = sign_ins.current()
    user = current.user
    version = password_matches(user, entered(form.current_password))
    if version is None:
        add_error(form.current_password, "That is not your current password.")
        return _password_page(form)
    remembered = current.remembered_at(utcnow())
    if (
        change_password(user, entered(form.new_password), version=version, this_sign_in=current)
        is None
    ):
        # Changed or ended a moment ago: by another browser (then this one is signed out
        # already), or by this one's own first click of a double click. No cookie is set,
        # not even a message in the session, so the first click's new cookies stand.
        return redirect(url_for("account.show"))
    # A new SignIn, session and remember cookie: none from before the change works.
    sign_in(user, password_version=version + 1, remember_me=remembered)
    flash(
        "Your password is changed. Every other browser where you were signed in is signed out.",
        "success",
    )
    return redirect(url_for("account.show"))


def _password_page(form: ChangePasswordForm) -> ResponseReturnValue:
    return render_template("change_password.html", form=form), 422 if form.errors else 200


def _browsers(count: int) -> str:
    return f"{count} other browser{'s' if count != 1 else ''}"
