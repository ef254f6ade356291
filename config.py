"""Settings for each way loginflow runs.

``create_app`` loads the class named by ``LOGINFLOW_CONFIG`` (default
``DevelopmentConfig``), then ``FLASK_<KEY>`` environment variables, so any key below
can be overridden without editing this file, e.g. ``FLASK_REMEMBER_ME_DURATION=120``.
Every value is checked at start (``loginflow.settings``); a bad one stops the start with
one line naming the variable.
"""

import secrets
from datetime import timedelta
from typing import Any, ClassVar


class Config:
    """Defaults shared by every environment."""

    # None: Development invents one and keeps it in the instance folder; Production refuses.
    # A key given must be at least 32 bytes: a short one can be guessed offline from a cookie.
    SECRET_KEY: str | None = None
    INVENT_SECRET_KEY = False
    # Old keys still accepted for sessions signed before a rotation; each at least 32 bytes.
    SECRET_KEY_FALLBACKS: list[str] | None = None

    # Production's promises are checked at start (settings.py): HTTPS-only __Host- cookies,
    # CSRF on, no debugger, and TRUSTED_HOSTS set.
    PRODUCTION = False

    # A relative SQLite path lives in the instance folder. Any SQLAlchemy URL works, and
    # DATABASE_URL (what hosting platforms set) too; postgres:// means psycopg 3.
    SQLALCHEMY_DATABASE_URI = "sqlite:///loginflow.sqlite"
    # A connection that died while idle (a database restart) is replaced, not used and failed.
    # Whatever is set here, settings.py adds hide_parameters: an error names its statement,
    # never the values (a password hash).
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": True}

    # None trusts any Host header; a list refuses other hosts with a 400. Production needs one,
    # or a forged Host could steer redirects and links to another site.
    TRUSTED_HOSTS: list[str] | None = None
    # How many reverse proxies stand in front (0 to 5), each adding X-Forwarded-For, -Proto
    # and -Host: that many are believed, so the client's address (throttling, the security
    # log) and https are the proxy's word. More than there are lets a client forge them.
    TRUSTED_PROXIES = 0

    # Set in production: browsers then refuse plain HTTP to this host for the time given.
    # Checked at start: a max-age of a year or more, with includeSubDomains or preload if wanted.
    STRICT_TRANSPORT_SECURITY: str | None = None

    # Larger request bodies get the 413 page before anything reads them.
    MAX_CONTENT_LENGTH = 64 * 1024

    SESSION_COOKIE_NAME = "session"
    SESSION_COOKIE_HTTPONLY = True  # page scripts (and so injected scripts) never read it
    SESSION_COOKIE_SAMESITE = "Lax"  # not sent on cross-site POSTs: a second line behind CSRF
    SESSION_COOKIE_SECURE = False  # the remember cookie follows this and SAMESITE too

    REMEMBER_ME_COOKIE_NAME = "remember"
    # A timedelta, or a number of seconds (what FLASK_REMEMBER_ME_DURATION=120 gives).
    REMEMBER_ME_DURATION = timedelta(days=14)
    # How long a just-replaced remember validator is still accepted, so that tabs
    # restored in parallel with the same cookie are not mistaken for a stolen copy; and
    # how long a session token replaced by confirming the password at /reauth still finds
    # its sign-in, so that a second click or another tab's request is not signed out.
    # (Named for the first; it covers both.)
    REMEMBER_ME_ROTATION_GRACE = timedelta(seconds=30)

    # Sign-ins without Remember me end on the server, whatever the browser keeps: after
    # this long without a request, and this long after the password was typed. A remembered
    # sign-in that idles out loses only its session; the remember cookie starts a new one.
    SIGN_IN_IDLE_TIMEOUT = timedelta(minutes=30)
    SIGN_IN_ABSOLUTE_TIMEOUT = timedelta(hours=12)
    # Changing the password or ending sign-ins asks for the password again unless it was
    # typed in this browser session less than this long ago (/reauth).
    FRESH_FOR = timedelta(minutes=15)

    # Werkzeug's default; only tests trade it for speed. A stored hash made another way is
    # replaced at the next successful sign-in.
    PASSWORD_HASH_METHOD = "scrypt"

    # Throttling (throttle.py; the setting names are Flask-Limiter's, which people know).
    # Counters live in memory, per process; with several instances, point them all at one
    # Redis: FLASK_RATELIMIT_STORAGE_URI=redis://host:6379.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    # Passed to the storage, e.g. '{"key_prefix": "site-a"}' for two sites on one Redis.
    RATELIMIT_STORAGE_OPTIONS: ClassVar[dict[str, Any]] = {}
    # Only failures count, so a person who gets it right is never slowed down. Counts are
    # per fixed window (a minute from the first failure), the one kind that can give an
    # attempt back; at a window's edge a guesser may get up to twice the limit.
    # Per username counts every wrong password for that account: on /login, and typed while
    # signed in (/reauth, a password change), so a stolen session cannot add guesses.
    THROTTLE_SIGN_IN_PER_USERNAME = "5 per minute"
    THROTTLE_SIGN_IN_PER_ADDRESS = "20 per minute"
    # Every attempt counts: each one that passes the form costs a password hash.
    THROTTLE_REGISTER_PER_ADDRESS = "10 per hour"


class DevelopmentConfig(Config):
    """``make run``: a key is invented once and kept, so restarts keep people signed in."""

    INVENT_SECRET_KEY = True


class TestingConfig(Config):
    """The test suites: a throwaway key and a deliberately cheap password hash."""

    TESTING = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"  # in memory, a new one per app
    SECRET_KEY = secrets.token_hex(32)
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"  # never outside tests: one iteration is no work


class ProductionConfig(Config):
    """Behind HTTPS: FLASK_SECRET_KEY and FLASK_TRUSTED_HOSTS must come from the environment."""

    # __Host- cookies are only accepted over HTTPS, for Path=/ and without Domain,
    # so a sibling subdomain or plain-HTTP page cannot plant or overwrite them.
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    REMEMBER_ME_COOKIE_NAME = "__Host-remember"
    PRODUCTION = True
    # Two years. No includeSubDomains: other sites under the domain may not all speak HTTPS.
    # Where they all do, FLASK_STRICT_TRANSPORT_SECURITY='max-age=63072000; includeSubDomains'.
    STRICT_TRANSPORT_SECURITY = "max-age=63072000"
    # Links made outside a request (url_for(..., _external=True) in a command) say https.
    PREFERRED_URL_SCHEME = "https"
