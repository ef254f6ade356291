"""Pages anyone may see, and the small helpers templates share."""

from flask import Blueprint, render_template

from .wording import duration

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> str:
    """Home: says who is signed in and where to go next."""
    return render_template("index.html")


bp.add_app_template_filter(duration, "duration")
