"""Where the site may send people: only to paths on this site."""

from urllib.parse import unquote, urlsplit


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
