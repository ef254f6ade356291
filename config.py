"""Settings for each way loginflow runs.

``create_app`` loads the class named by ``LOGINFLOW_CONFIG`` (default
``DevelopmentConfig``), then ``FLASK_<KEY>`` environment variables, so any key below
can be overridden without editing this file, e.g. ``FLASK_REMEMBER_ME_DURATION=120``.
"""

import secrets
from datetime import timedelta


class Config:
    """Defaults shared by every environment."""

    # None: Development invents one and keeps it in the instance folder; Production refuses.
    SECRET_KEY: str | None = None
    INVENT_SECRET_KEY = False

    # A relative SQLite path lives in the instance folder. Any SQLAlchemy URL works.
    SQLALCHEMY_DATABASE_URI = "sqlite:///loginflow.sqlite"

    SESSION_COOKIE_NAME = "session"
    SESSION_COOKIE_HTTPONLY = True  # page scripts (and so injected scripts) never read it
    SESSION_COOKIE_SAMESITE = "Lax"  # not sent on cross-site POSTs: a second line behind CSRF
    SESSION_COOKIE_SECURE = False  # the remember cookie follows this and SAMESITE too

    REMEMBER_ME_COOKIE_NAME = "remember"
    # A timedelta, or a number of seconds (what FLASK_REMEMBER_ME_DURATION=120 gives).
    REMEMBER_ME_DURATION = timedelta(days=14)
    # How long a just-replaced remember validator is still accepted, so that tabs
    # restored in parallel with the same cookie are not mistaken for a stolen copy.
    REMEMBER_ME_ROTATION_GRACE = timedelta(seconds=30)

    # Werkzeug's default; only tests trade it for speed.
    PASSWORD_HASH_METHOD = "scrypt"


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
    """Behind HTTPS: the secret key must come from the environment (FLASK_SECRET_KEY)."""

    # __Host- cookies are only accepted over HTTPS, for Path=/ and without Domain,
    # so a sibling subdomain or plain-HTTP page cannot plant or overwrite them.
    SESSION_COOKIE_NAME = "__Host-session"
    SESSION_COOKIE_SECURE = True
    REMEMBER_ME_COOKIE_NAME = "__Host-remember"
