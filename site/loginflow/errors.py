"""Friendly error pages: a clear message and a way on, never a traceback."""

from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .security import safe_next

MESSAGES = {
    400: "The request could not be understood.",
    404: "There is no page at this address.",
    405: "This address does not accept that kind of request.",
    429: "Too many attempts. Please wait a moment and try again.",
    500: "Something went wrong on our side. Please try again.",
}


def render_error(error: HTTPException) -> Response:
    """The status and headers (e.g. 405's Allow) of ``error``, with a page of our own."""
    code = error.code or 500
    if isinstance(error, CSRFError):
        message = "This form expired, please try again."
    else:
        message = MESSAGES.get(code, error.description)
    retry = _form_page() if code == 400 and request.method != "GET" else None
    response = error.get_response()
    response.set_data(
        render_template("error.html", code=code, title=error.name, message=message, retry=retry)
    )
    return response


def _form_page() -> str | None:
    """The page a failed form was sent from, to load afresh; only if it is on this site."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return safe_next(urlunsplit(("", "", referrer.path, referrer.query, "")))


def init_app(app: Flask) -> None:
    # Unexpected exceptions arrive here as InternalServerError; their details go to the log only.
    app.register_error_handler(HTTPException, render_error)
