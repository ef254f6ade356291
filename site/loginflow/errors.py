"""Friendly error pages: a clear message and a way on, never a traceback."""

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

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
    # Offer the page the form came from again (only a GET is safe to repeat).
    retry = request.path if request.method != "GET" and code == 400 else None
    response = error.get_response()
    response.set_data(
        render_template("error.html", code=code, title=error.name, message=message, retry=retry)
    )
    return response


def init_app(app: Flask) -> None:
    # Unexpected exceptions arrive here as InternalServerError; their details go to the log only.
    app.register_error_handler(HTTPException, render_error)
