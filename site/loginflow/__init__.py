"""loginflow: a browser login flow done right, as a small Flask site."""

import os
from pathlib import Path

from flask import Flask
from sqlalchemy.exc import ArgumentError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    account,
    auth,
    cli,
    cookie_lab,
    database,
    errors,
    freshness,
    headers,
    pages,
    request_limits,
    security_log,
    sign_ins,
    throttle,
)
from .extensions import csrf, db, login_manager
from .settings import ConfigurationError, load_settings


def create_app(config: type | None = None) -> Flask:
    """Build the site with ``config``, or the class named by LOGINFLOW_CONFIG.

    Templates and static files come from the package, installed or not. The instance
    folder (the SQLite database, a development key) is LOGINFLOW_INSTANCE_PATH, else
    Flask's default: beside the package's folder, or ``<prefix>/var/loginflow-instance``
    for an installed one.
    """
    app = Flask(__name__, instance_path=instance_path())
    load_settings(app, config)
    if proxies := app.config["TRUSTED_PROXIES"]:
        # Believe that many X-Forwarded-* headers, from the nearest proxy outwards: the
        # client's address and https as the proxies saw them, never more than they add.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )

    try:
        db.init_app(app)
    except (ArgumentError, TypeError, ValueError) as error:
        # The kind of error only: the message may quote a URL with its password.
        raise ConfigurationError(
            "FLASK_SQLALCHEMY_DATABASE_URI or FLASK_SQLALCHEMY_ENGINE_OPTIONS cannot be used "
            f"({type(error).__name__})."
        ) from None
    database.init_app(app)  # first: its guard comes before every hook that reads the database
    request_limits.init_app(app)  # before CSRFProtect's check, which reads the body
    csrf.init_app(app)
    login_manager.init_app(app)
    throttle.init_app(app)
    for blueprint in (pages.bp, auth.bp, freshness.bp, account.bp, cookie_lab.bp):
        app.register_blueprint(blueprint)
    sign_ins.init_app(app)  # after auth's restore hook, which its own hook must follow
    freshness.init_app(app)
    headers.init_app(app)
    errors.init_app(app)
    security_log.init_app(app)
    cli.init_app(app)
    # Last: the database is opened (and a new one migrated) only once every setting is sound.
    database.prepare(app)

    return app


def instance_path() -> str | None:
    """LOGINFLOW_INSTANCE_PATH as Flask needs it (absolute), or None for Flask's default."""
    chosen = os.environ.get("LOGINFLOW_INSTANCE_PATH")
    return str(Path(chosen).resolve()) if chosen else None
