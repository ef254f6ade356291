"""The keys that sign sessions: checked at start, and invented once for development."""

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import Any

# The shortest key accepted: 32 random bytes cannot be guessed from a cookie offline.
MIN_SECRET_KEY_BYTES = 32
HOW_TO_MAKE_ONE = 'make one with: python -c "import secrets; print(secrets.token_hex(32))"'


def key_problem(key: Any) -> str | None:
    """Why ``key`` cannot sign sessions safely, or None."""
    if not isinstance(key, str | bytes):
        # FLASK_* values are read as JSON, so an all-digit key arrives as a number.
        return "must be a string (quote it if it is all digits)"
    if len(key.encode() if isinstance(key, str) else key) < MIN_SECRET_KEY_BYTES:
        return f"must be at least {MIN_SECRET_KEY_BYTES} bytes; {HOW_TO_MAKE_ONE}"
    return None


def fallbacks_problem(fallbacks: Any) -> str | None:
    """Why ``SECRET_KEY_FALLBACKS`` is unsafe, or None.

    Flask tries every fallback on every cookie, so a plain string (which Flask would read
    as one key per character) or a short old key would let anyone forge a session.
    """
    if fallbacks is None:
        return None
    if not isinstance(fallbacks, list):
        return "must be a list of old keys, e.g. '[\"<old key>\"]'"
    problems = [p for p in map(key_problem, fallbacks) if p]
    return f"holds a key that {problems[0]}" if problems else None


def invented_key(instance: Path) -> str:
    """Invent a key once and keep it, readable by this user only, for development.

    The key is written whole to a file of its own, then linked into place: a second
    process starting at the same moment finds either no key file or a complete one.
    Returns the key; raises ValueError saying what is wrong with a file found there.
    """
    key_file = instance / "secret_key"
    try:
        if not key_file.exists():
            _write_once(instance, key_file)
        return _read_private(key_file)
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{key_file} cannot be used ({error.__class__.__name__})") from None


def _write_once(instance: Path, key_file: Path) -> None:
    instance.mkdir(parents=True, exist_ok=True)
    draft = instance / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
    # Mode 0600 from the start: the key is never world-readable, even briefly.
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        # Fails if another process linked its key first; then that key is the one.
        with contextlib.suppress(FileExistsError):
            os.link(draft, key_file)
    finally:
        draft.unlink()


def _read_private(key_file: Path) -> str:
    # O_NOFOLLOW: a link planted in the instance folder cannot make another file the key.
    fd = os.open(key_file, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd) as f:
        if stat.S_IMODE(os.fstat(f.fileno()).st_mode) & 0o077:
            raise ValueError(f"{key_file} is readable by others: chmod 600 it, or delete it")
        key = f.read().strip()
    if len(key) < MIN_SECRET_KEY_BYTES:
        raise ValueError(f"{key_file} holds no usable key: delete it (a new one is made)")
    return key
