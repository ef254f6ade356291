"""Where the site may send people: only to paths on this site."""

from urllib.parse import unquote, urlsplit, urlunsplit

from flask import request


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None.

    Only a plain absolute path passes: anything a browser could read as another
    host (``//host``, ``/\\host``, ``https:host``, a scheme, leading blanks or
    control characters) is refused, also after percent-decoding.
    """
    if not target:
        return None
    for candidate in (target, unquote(target)):
        if (
            not candidate.startswith("/")
            or candidate.startswith("//")
            # Browsers read "\" as "/" and drop tabs and newlines inside URLs.
            or "\\" in candidate
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in candidate)
            or urlsplit(candidate).netloc
        ):
            return None
    return target


def referring_page() -> str | None:
    """The page on this site that sent this request (a form's page), else None."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    # The path itself may name another host ("//evil.example/x"): it must pass safe_next.
    return safe_next(urlunsplit(("", "", referrer.path, referrer.query, "")))


def return_path() -> str | None:
    """Where to bring a person back to after an interruption (sign in, confirm password).

    A page they asked for, or for a form (a POST cannot be repeated by a redirect) the
    page that holds the form.
    """
    if request.method == "GET":
        return safe_next(request.full_path.rstrip("?"))
    return referring_page()
