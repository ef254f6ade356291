"""Loading and checking the settings before anything else reads them.

Every value a person can set is checked here, at start, so that a bad one stops the
site with one line naming the variable instead of failing later on some request.
"""

import math
import os
import re
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import click
from flask import Config, Flask
from limits import parse_many
from werkzeug.security import generate_password_hash

from . import config as config_module
from . import secret_keys

# Each duration's sane range. Browsers cap a cookie's Max-Age at 400 days, and a remember
# cookie must outlive the minute or so a person needs to close and reopen the browser.
DURATION_BOUNDS = {
    "REMEMBER_ME_DURATION": (timedelta(minutes=1), timedelta(days=400)),
    "REMEMBER_ME_ROTATION_GRACE": (timedelta(seconds=1), timedelta(minutes=10)),
    # Seconds are allowed so that tests can watch a timeout happen.
    "SIGN_IN_IDLE_TIMEOUT": (timedelta(seconds=1), timedelta(days=30)),
    "SIGN_IN_ABSOLUTE_TIMEOUT": (timedelta(seconds=1), timedelta(days=400)),
    "FRESH_FOR": (timedelta(seconds=1), timedelta(days=1)),
}
# What a duration covers, where its name says less: its message says so.
DURATION_COVERS = {
    "REMEMBER_ME_ROTATION_GRACE": "how long a replaced remember validator, and a session "
    "token replaced at /reauth, are still accepted",
}
THROTTLE_KEYS = (
    "THROTTLE_SIGN_IN_PER_USERNAME",
    "THROTTLE_SIGN_IN_PER_ADDRESS",
    "THROTTLE_REGISTER_PER_ADDRESS",
)
MAX_CONTENT_LENGTH_BOUNDS = (1024, 16 * 1024 * 1024)
# A cookie name is an RFC 6265 token: anything else breaks the Set-Cookie header.
COOKIE_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
# Password hashing: enough work to slow an offline guesser, bounded so one sign-in cannot
# take the server's memory (scrypt uses 128 * n * r bytes) or minutes of CPU.
SCRYPT_MIN_N, SCRYPT_MAX_BYTES = 2**14, 64 * 1024 * 1024
PBKDF2_ITERATIONS = (600_000, 10_000_000)
# Werkzeug's own parameters where a method leaves them out: scrypt n, r, p; pbkdf2 rounds.
WERKZEUG_SCRYPT, WERKZEUG_PBKDF2_ITERATIONS = [2**15, 8, 1], 1_000_000
# HSTS: a year at least, or browsers forget it between visits of a person who comes rarely.
HSTS_MIN_MAX_AGE = 365 * 24 * 60 * 60
# The directives browsers know; anything else (a line break above all) is refused, not sent.
HSTS_DIRECTIVE = re.compile(r"max-age=(\d{1,10})|includesubdomains|preload", re.IGNORECASE)
# Production's promises; each may not be switched off there.
PRODUCTION_MUSTS = {
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,  # the session token never within reach of page scripts
    "WTF_CSRF_ENABLED": True,
    "WTF_CSRF_CHECK_DEFAULT": True,  # off, sign out and End would check no CSRF token
    "LOGIN_DISABLED": False,  # on, Flask-Login asks for neither a sign-in nor a fresh password
    "DEBUG": False,
    "TESTING": False,
}


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
    settings["SQLALCHEMY_DATABASE_URI"] = _database_url(settings["SQLALCHEMY_DATABASE_URI"])

    _load_secret_key(settings, Path(app.instance_path))
    for key, (shortest, longest) in DURATION_BOUNDS.items():
        settings[key] = _duration(settings[key], key, shortest, longest)
    if settings["SIGN_IN_IDLE_TIMEOUT"] > settings["SIGN_IN_ABSOLUTE_TIMEOUT"]:
        raise ConfigurationError(
            "FLASK_SIGN_IN_IDLE_TIMEOUT must not be longer than FLASK_SIGN_IN_ABSOLUTE_TIMEOUT."
        )
    settings["MAX_CONTENT_LENGTH"] = _whole_number(
        settings["MAX_CONTENT_LENGTH"], "MAX_CONTENT_LENGTH", *MAX_CONTENT_LENGTH_BOUNDS
    )
    settings["TRUSTED_PROXIES"] = _whole_number(
        settings["TRUSTED_PROXIES"], "TRUSTED_PROXIES", 0, 5
    )
    for key in THROTTLE_KEYS:
        _check_limit(settings[key], key)
    if not isinstance(settings["RATELIMIT_STORAGE_OPTIONS"], dict):
        raise ConfigurationError("FLASK_RATELIMIT_STORAGE_OPTIONS must be a JSON object.")
    for key in ("RATELIMIT_ENABLED", "PRODUCTION"):
        if not isinstance(settings[key], bool):
            raise ConfigurationError(f"FLASK_{key} must be true or false, not {settings[key]!r}.")
    _check_cookies(settings)
    _hide_sql_parameters(settings)
    _check_trusted_hosts(settings["TRUSTED_HOSTS"], required=settings["PRODUCTION"])
    _check_hash_method(settings["PASSWORD_HASH_METHOD"], testing=settings["TESTING"])
    _check_strict_transport_security(
        settings["STRICT_TRANSPORT_SECURITY"], production=settings["PRODUCTION"]
    )
    if settings["PRODUCTION"]:
        _check_production(settings)


def _load_secret_key(settings: Config, instance: Path) -> None:
    if not settings["SECRET_KEY"]:
        if not settings["INVENT_SECRET_KEY"]:
            # A guessable or default key lets anyone forge a session: refuse to start instead.
            raise ConfigurationError("No secret key: set FLASK_SECRET_KEY to a long random string.")
        try:
            settings["SECRET_KEY"] = secret_keys.invented_key(instance)
        except ValueError as error:
            raise ConfigurationError(f"{error}, or set FLASK_SECRET_KEY.") from None
    if problem := secret_keys.key_problem(settings["SECRET_KEY"]):
        raise ConfigurationError(f"FLASK_SECRET_KEY {problem}")
    if problem := secret_keys.fallbacks_problem(settings["SECRET_KEY_FALLBACKS"]):
        raise ConfigurationError(f"FLASK_SECRET_KEY_FALLBACKS {problem}")


def _database_url(configured: Any) -> Any:
    """FLASK_SQLALCHEMY_DATABASE_URI, else DATABASE_URL, else the configured default.

    ``postgres://`` (Heroku's and others' spelling) and ``postgresql://`` mean psycopg 3,
    the PostgreSQL driver loginflow installs; SQLAlchemy would pick psycopg2 for them.
    """
    if "FLASK_SQLALCHEMY_DATABASE_URI" in os.environ or "DATABASE_URL" not in os.environ:
        url = configured
    else:
        url = os.environ["DATABASE_URL"]
    if isinstance(url, str):
        scheme, separator, rest = url.partition("://")
        if separator and scheme in ("postgres", "postgresql"):
            return f"postgresql+psycopg://{rest}"
    return url


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
        covers = f" ({DURATION_COVERS[key]})" if key in DURATION_COVERS else ""
        raise ConfigurationError(
            f"FLASK_{key}{covers} must be a number of seconds from "
            f"{shortest.total_seconds():.0f} to {longest.total_seconds():.0f}."
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
        valid = isinstance(value, str) and all(item.amount >= 1 for item in parse_many(value))
    except ValueError:
        valid = False
    if not valid:
        raise ConfigurationError(f"FLASK_{key} must be a limit such as '5 per minute'.")


def _check_cookies(settings: Config) -> None:
    taken = ["theme"]  # the cookie lab's
    for key in ("SESSION_COOKIE_NAME", "REMEMBER_ME_COOKIE_NAME"):
        name = settings[key]
        if not (isinstance(name, str) and COOKIE_NAME.match(name)):
            raise ConfigurationError(f"FLASK_{key} must be letters, digits and -_.!")
        if name in taken:
            raise ConfigurationError(f"FLASK_{key}={name!r} is another cookie's name.")
        taken.append(name)
    # Lax or Strict: with None, other sites' forms would carry the session (CSRF's first line).
    if settings["SESSION_COOKIE_SAMESITE"] not in ("Lax", "Strict"):
        raise ConfigurationError("FLASK_SESSION_COOKIE_SAMESITE must be Lax or Strict.")


def _hide_sql_parameters(settings: Config) -> None:
    options = settings.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
    if not isinstance(options, dict):
        raise ConfigurationError("FLASK_SQLALCHEMY_ENGINE_OPTIONS must be a JSON object.")
    # Forced, not a default: a statement's values (a password hash) never reach a log line.
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "hide_parameters": True}


def _check_trusted_hosts(hosts: Any, *, required: bool) -> None:
    if hosts is None and not required:
        return
    if not (isinstance(hosts, list) and hosts and all(isinstance(h, str) and h for h in hosts)):
        raise ConfigurationError(
            "FLASK_TRUSTED_HOSTS must list the site's host names, e.g. '[\"example.com\"]'."
        )


def _check_strict_transport_security(value: Any, *, production: bool) -> None:
    """A Strict-Transport-Security value with a max-age of a year or more, when set.

    Production must send one: its cookies are HTTPS-only, and HSTS keeps a person from ever
    reaching the plain-HTTP site first. Elsewhere it may be left unset.
    """
    if not value and not production:
        return
    # Only spaces and tabs may surround a directive: strip() passed line breaks and controls.
    directives = [d.strip(" \t") for d in value.split(";")] if isinstance(value, str) else [""]
    matches = [HSTS_DIRECTIVE.fullmatch(d) for d in directives]
    names = [d.split("=")[0].lower() for d in directives]
    ages = [int(m.group(1)) for m in matches if m and m.group(1)]
    # Each directive known and given once, so there is one max-age to judge.
    well_formed = all(matches) and len(set(names)) == len(names)
    if not (well_formed and ages and ages[0] >= HSTS_MIN_MAX_AGE):
        raise ConfigurationError(
            f"FLASK_STRICT_TRANSPORT_SECURITY must hold a max-age of {HSTS_MIN_MAX_AGE} (a year) "
            "or more, e.g. 'max-age=63072000; includeSubDomains'."
        )


def _check_hash_method(method: Any, *, testing: bool) -> None:
    """A method Werkzeug knows, with work in bounds (tests alone may hash cheaply)."""
    if not (
        isinstance(method, str)
        and (testing or _work_in_bounds(method))
        and _werkzeug_hashes_with(method)
    ):
        raise ConfigurationError(
            "FLASK_PASSWORD_HASH_METHOD must be scrypt (n from 2**14, at most 64 MB a hash) "
            "or pbkdf2 with 600000 to 10000000 iterations."
        )


def _work_in_bounds(method: str) -> bool:
    name, *parameters = method.split(":")
    if name == "scrypt":  # scrypt[:n[:r[:p]]]
        if not all(p.isdigit() for p in parameters):
            return False
        n, r = ([int(p) for p in parameters] + WERKZEUG_SCRYPT[len(parameters) :])[:2]
        return n >= SCRYPT_MIN_N and 128 * n * r <= SCRYPT_MAX_BYTES
    if name == "pbkdf2":  # pbkdf2[:hash[:iterations]]
        rounds = parameters[1:2]
        if not all(p.isdigit() for p in rounds):
            return False
        iterations = int(rounds[0]) if rounds else WERKZEUG_PBKDF2_ITERATIONS
        return PBKDF2_ITERATIONS[0] <= iterations <= PBKDF2_ITERATIONS[1]
    return False


@cache
def _werkzeug_hashes_with(method: str) -> bool:
    """Whether Werkzeug can hash with ``method``: tried once per process, as scrypt is slow."""
    try:
        generate_password_hash("checking the method", method)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _check_production(settings: Config) -> None:
    """What production promises cannot be switched off by an environment variable."""
    for key, required in PRODUCTION_MUSTS.items():
        if settings.get(key, required) is not required:
            raise ConfigurationError(f"FLASK_{key} must be {str(required).lower()} in production.")
    methods = settings.get("WTF_CSRF_METHODS", ["POST"])
    if not isinstance(methods, (list, str)) or "POST" not in methods:
        # CSRFProtect checks only the methods listed: without POST, no form's token.
        raise ConfigurationError("FLASK_WTF_CSRF_METHODS must include POST in production.")
    if settings["PROPAGATE_EXCEPTIONS"]:
        raise ConfigurationError("FLASK_PROPAGATE_EXCEPTIONS must be unset in production.")
    for key in ("SESSION_COOKIE_NAME", "REMEMBER_ME_COOKIE_NAME"):
        # __Host-: only over HTTPS, for Path=/ and no Domain, so no subdomain can plant it.
        if not settings[key].startswith("__Host-"):
            raise ConfigurationError(f"FLASK_{key} must begin with __Host- in production.")
