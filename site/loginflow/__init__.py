"""loginflow: a browser login flow done right, as a small Flask site."""

from pathlib import Path

from flask import Flask

from . import account, auth, cookie_lab, errors, headers, pages, security_log, throttle
from .extensions import csrf, db, login_manager
from .settings import load_settings

# The project root, which holds templates/, static/ and instance/ beside site/.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def create_app(config: type | None = None) -> Flask:
    """Build the site with ``config``, or the class named by LOGINFLOW_CONFIG."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    load_settings(app, config)

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    throttle.init_app(app)
    for blueprint in (pages.bp, auth.bp, account.bp, cookie_lab.bp):
        app.register_blueprint(blueprint)
    headers.init_app(app)
    errors.init_app(app)
    security_log.init_app(app)

    with app.app_context():
        db.create_all()
    return app
