"""The signed-in user's own pages."""

from flask import Blueprint, render_template
from flask_login import current_user, login_fresh, login_required

bp = Blueprint("account", __name__)


@bp.get("/account")
@login_required
def show() -> str:
    """Who you are signed in as, and how this browser's session came to be."""
    return render_template("account.html", sign_in=current_user.sign_in, fresh=login_fresh())
