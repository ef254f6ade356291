"""Response headers that tell the browser what a page may do and what it may keep.

One short ``after_request`` hook rather than a library: the set is fixed and small, and
every header is explained where it is set.
"""

import hashlib
import os
from functools import cache
from stat import S_ISREG
from typing import Any

from flask import Flask, Response, current_app, request

# Only this site's own files may load: an injected <script> or style attribute does nothing.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",  # an injected <base> cannot redirect relative links
        "form-action 'self'",  # an injected form cannot post a password elsewhere
        "frame-ancestors 'none'",  # no other site may frame a page and trick clicks on it
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",  # a file is only ever what its Content-Type says
    "Referrer-Policy": "same-origin",  # other sites never see this site's paths
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Cross-Origin-Opener-Policy": "same-origin",  # a page opened from elsewhere gets no handle
    # No other site may load a response into its page (as an image, a script): nothing leaks.
    "Cross-Origin-Resource-Policy": "same-origin",
}
# A versioned static URL never changes content, so it may be kept for a year.
VERSIONED_STATIC = "public, max-age=31536000, immutable"


def add_security_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    if hsts := current_app.config["STRICT_TRANSPORT_SECURITY"]:
        response.headers["Strict-Transport-Security"] = hsts
    if request.endpoint != "static" or response.status_code not in (200, 304):
        # Pages depend on who is signed in: never keep them, so Back after sign-out shows nothing.
        response.headers["Cache-Control"] = "no-store"
    elif request.args.get("v") == _current_version(request.view_args or {}):
        response.headers["Cache-Control"] = VERSIONED_STATIC
    return response


def version_static_urls(endpoint: str, values: dict[str, Any]) -> None:
    """``url_for('static', ...)`` gains ``?v=<digest of the file>``: new content, new URL."""
    if endpoint == "static" and (version := _current_version(values)):
        values.setdefault("v", version)


def _current_version(values: dict[str, Any]) -> str | None:
    """The digest of the static file named in ``values``; only that ``v`` is kept long."""
    # Plain strings and one os.stat, not pathlib: each page links to several static files.
    path = os.path.join(current_app.static_folder or "", values.get("filename", ""))
    try:
        found = os.stat(path)
    except OSError:
        return None
    return _digest(path, found.st_mtime_ns) if S_ISREG(found.st_mode) else None


@cache
def _digest(path: str, mtime_ns: int) -> str:
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()[:12]


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
    app.url_defaults(version_static_urls)
