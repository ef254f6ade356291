"""What a request may carry: a urlencoded form, within ``MAX_CONTENT_LENGTH``.

Every form on the site posts ``application/x-www-form-urlencoded``. Flask-WTF would also
read JSON and multipart bodies, where a field can be a number, a list or a file instead
of text; refusing them up front keeps every field a string and every parser bounded.
"""

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

FORM_TYPE = "application/x-www-form-urlencoded"
BODILESS_METHODS = ("GET", "HEAD", "OPTIONS")


def check_body() -> None:
    if request.method in BODILESS_METHODS:
        return
    # No type at all is let through: Werkzeug reads no fields from such a body.
    if request.mimetype not in ("", FORM_TYPE):
        raise UnsupportedMediaType()
    limit = request.max_content_length
    # No length announced (chunked): read what Werkzeug allows, and refuse a body that
    # fills it, since Werkzeug stops reading there without saying that more was sent.
    if (
        request.content_length is None
        and limit is not None
        and len(request.get_data(cache=True)) >= limit
    ):
        raise RequestEntityTooLarge()


def init_app(app: Flask) -> None:
    app.before_request(check_body)
