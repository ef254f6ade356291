"""Friendly error pages: a clear message and a way on, never a traceback.

A failing database is the one error handled as more than a page: the request's
transaction is rolled back, one line is logged, and the page says to come back soon.
"""

import logging

from flask import Flask, current_app, g, render_template, request
from flask.globals import request_ctx
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InternalError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, SecurityError, ServiceUnavailable
from werkzeug.wrappers import Response

from .extensions import db, login_manager
from .security import referring_page

log = logging.getLogger(__name__)

# Headings in plain words, not HTTP's reason phrases ("Method Not Allowed").
TITLES = {
    400: "That request could not be used",
    404: "Page not found",
    405: "Not something this page does",
    413: "Too much at once",
    415: "Not a form from this site",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Back in a minute",
}
MESSAGES = {
    400: "The request could not be understood.",
    404: "There is no page at this address.",
    405: "This address does not accept that kind of request.",
    413: "That was more than this site accepts. Please send less.",
    415: "This address accepts only forms sent from this site's pages.",
    500: "Something went wrong on our side. Please try again.",
    503: "The site cannot reach its database just now. Please try again in a minute.",
}
# What a database that refuses connections, writes or time raises (SQLite: locked or
# read-only; PostgreSQL: refused connection, read-only transaction; a full pool).
DATABASE_UNAVAILABLE = (OperationalError, InternalError, PoolTimeout)
DATABASE_RETRY_AFTER = 30  # seconds


def render_error(
    error: HTTPException, *, message: str | None = None, database_down: bool = False
) -> Response:
    """The status and headers (e.g. 405's Allow) of ``error``, with a page of our own."""
    code = error.code or 500
    if code == 500:
        # Whatever failed may have left the transaction unusable; the page must not be.
        db.session.rollback()
    if not _user_loaded():
        database_down = True
    title = TITLES.get(code, error.name)
    if isinstance(error, CSRFError):
        title, message = "This form expired", "This form expired, please try again."
    elif message is None:
        message = MESSAGES.get(code, error.description)
    if request_ctx.url_adapter is None:
        # An untrusted Host header leaves no URL adapter; paths do not depend on the host.
        request_ctx.url_adapter = current_app.url_map.bind("localhost")
    retry = None
    # A refused form (expired, throttled, or the site briefly unable to take it) links back
    # to a fresh copy of itself.
    if code in (400, 429, 503) and request.method != "GET" and not isinstance(error, SecurityError):
        retry = referring_page()
    response = error.get_response()
    response.set_data(
        render_template(
            "error.html",
            code=code,
            title=title,
            message=message,
            retry=retry,
            database_down=database_down,
        )
    )
    return response


def render_database_unavailable(error: Exception) -> Response:
    """503 for a database that is down or refusing writes; the site recovers with it."""
    db.session.rollback()
    # The kind of failure only: a driver's message may quote the statement and its values.
    log.error("Database unavailable: %s", type(getattr(error, "orig", error)).__name__)
    response = render_error(ServiceUnavailable(), database_down=True)
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


def _user_loaded() -> bool:
    """Load who is signed in, which every page shows; False if the database failed at it.

    Flask-Login's template context loads the user, so an error page rendered while the
    database is down would fail in turn. Then the page is rendered for nobody; the session
    cookie is left alone, so nobody is signed out by an outage.
    """
    try:
        current_user._get_current_object()
    except DATABASE_UNAVAILABLE:
        db.session.rollback()
        g._login_user = login_manager.anonymous_user()
        return False
    return True


def init_app(app: Flask) -> None:
    # Unexpected exceptions arrive here as InternalServerError; their details go to the log only.
    app.register_error_handler(HTTPException, render_error)
    for failure in DATABASE_UNAVAILABLE:
        app.register_error_handler(failure, render_database_unavailable)
