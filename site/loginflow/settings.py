"""Loading and checking the settings before anything else reads them.

Every value a person can set is checked here, at start, so that a bad one stops the
site with one line naming the variable instead of failing later on some request.
"""

import contextlib
import math
import os
import secrets
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import click
from flask import Flask
from limits import parse_many
from werkzeug.security import generate_password_hash

import config as config_module

# The shortest secret key accepted: 32 random bytes cannot be guessed from a cookie offline.
MIN_SECRET_KEY_BYTES = 32

# Each duration's sane range. Browsers cap a cookie's Max-Age at 400 days, and a remember
# cookie must outlive the minute or so a person needs to close and reopen the browser.
DURATION_BOUNDS = {
    "REMEMBER_ME_DURATION": (timedelta(minutes=1), timedelta(days=400)),
    "REMEMBER_ME_ROTATION_GRACE": (timedelta(seconds=1), timedelta(minutes=10)),
}
THROTTLE_KEYS = (
    "THROTTLE_SIGN_IN_PER_USERNAME",
    "THROTTLE_SIGN_IN_PER_ADDRESS",
    "THROTTLE_REGISTER_PER_ADDRESS",
)
MAX_CONTENT_LENGTH_BOUNDS = (1024, 16 * 1024 * 1024)


class ConfigurationError(click.ClickException):
    """A setting that makes it unsafe or impossible to start; the message says what to set.

    A ClickException, so ``flask run`` prints the one line instead of a traceback.
    """


def load_settings(app: Flask, config: type | None) -> None:
    """Apply the chosen settings class, then ``FLASK_*`` overrides, then check the result."""
    if config is None:
        name = os.environ.get("LOGINFLOW_CONFIG", "DevelopmentConfig")
        config = getattr(config_module, name, None)
        if not (isinstance(config, type) and issubclass(config, config_module.Config)):
            raise ConfigurationError(f"LOGINFLOW_CONFIG={name!r} names no class in config.py.")
    app.config.from_object(config)
    app.config.from_prefixed_env()
    settings = app.config

    if not settings["SECRET_KEY"]:
        if not settings["INVENT_SECRET_KEY"]:
            # A guessable or default key lets anyone forge a session: refuse to start instead.
            raise ConfigurationError("No secret key: set FLASK_SECRET_KEY to a long random string.")
        settings["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))
    _check_secret_key(settings["SECRET_KEY"])

    for key, (shortest, longest) in DURATION_BOUNDS.items():
        settings[key] = _duration(settings[key], key, shortest, longest)
    settings["MAX_CONTENT_LENGTH"] = _whole_number(
        settings["MAX_CONTENT_LENGTH"], "MAX_CONTENT_LENGTH", *MAX_CONTENT_LENGTH_BOUNDS
    )
    for key in THROTTLE_KEYS:
        _check_limit(settings[key], key)
    for key in ("RATELIMIT_ENABLED", "REQUIRE_TRUSTED_HOSTS"):
        if not isinstance(settings[key], bool):
            raise ConfigurationError(f"FLASK_{key} must be true or false, not {settings[key]!r}.")
    _check_trusted_hosts(settings["TRUSTED_HOSTS"], settings["REQUIRE_TRUSTED_HOSTS"])
    _check_hash_method(settings["PASSWORD_HASH_METHOD"])


def _duration(value: Any, key: str, shortest: timedelta, longest: timedelta) -> timedelta:
    """A timedelta, or a number of seconds (what the environment gives), within bounds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # Checked as a number first: NaN and 1e300 would break timedelta itself.
        if not math.isfinite(value) or not (
            shortest.total_seconds() <= value <= longest.total_seconds()
        ):
            value = None
        else:
            value = timedelta(seconds=value)
    if not isinstance(value, timedelta) or not shortest <= value <= longest:
        raise ConfigurationError(
            f"FLASK_{key} must be a number of seconds from {shortest.total_seconds():.0f} "
            f"to {longest.total_seconds():.0f}."
        )
    return value


def _whole_number(value: Any, key: str, smallest: int, largest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not smallest <= value <= largest:
        raise ConfigurationError(
            f"FLASK_{key} must be a whole number from {smallest} to {largest}."
        )
    return value


def _check_limit(value: Any, key: str) -> None:
    try:
        valid = isinstance(value, str) and bool(parse_many(value))
    except ValueError:
        valid = False
    if not valid:
        raise ConfigurationError(f"FLASK_{key} must be a limit such as '5 per minute'.")


def _check_trusted_hosts(hosts: Any, required: bool) -> None:
    if hosts is None and not required:
        return
    if not (isinstance(hosts, list) and hosts and all(isinstance(h, str) and h for h in hosts)):
        raise ConfigurationError(
            "FLASK_TRUSTED_HOSTS must list the site's host names, e.g. '[\"example.com\"]'."
        )


def _check_hash_method(method: Any) -> None:
    if not (isinstance(method, str) and _werkzeug_hashes_with(method)):
        raise ConfigurationError(
            f"FLASK_PASSWORD_HASH_METHOD={method!r} is not a method Werkzeug knows."
        )


@cache
def _werkzeug_hashes_with(method: str) -> bool:
    """Whether Werkzeug can hash with ``method``: tried once per process, as scrypt is slow."""
    try:
        generate_password_hash("checking the method", method)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _check_secret_key(key: Any) -> None:
    if isinstance(key, str):
        key = key.encode()
    if not isinstance(key, bytes) or len(key) < MIN_SECRET_KEY_BYTES:
        raise ConfigurationError(
            f"FLASK_SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes; "
            'make one with: python -c "import secrets; print(secrets.token_hex(32))"'
        )


def _instance_secret_key(instance: Path) -> str:
    """Invent a key once and keep it, readable by this user only, for development.

    The key is written whole to a file of its own, then linked into place: a second
    process starting at the same moment finds either no key file or a complete one.
    """
    key_file = instance / "secret_key"
    if not key_file.exists():
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
    key = key_file.read_text().strip()
    if len(key) < MIN_SECRET_KEY_BYTES:
        raise ConfigurationError(
            f"{key_file} holds no usable key: delete it (a new one is made) "
            "or set FLASK_SECRET_KEY."
        )
    return key
