"""The Flask extensions, created unbound so every module can import them."""

from typing import TYPE_CHECKING

from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base for the typed SQLAlchemy 2 models."""

    # Every index and constraint is named by a rule, the same on SQLite and PostgreSQL, so
    # that a migration can change or drop it by that name.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
# The models' base class is db.Model, which the line above makes from Base. mypy cannot
# take a class made at run time as a base (python/mypy#8603), so it is shown Base, whose
# body and typing db.Model has.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
csrf = CSRFProtect()

# Where login_required and fresh_login_required send people (auth.py and freshness.py
# answer for Flask-Login, so that a form's page, not its POST, is where they come back).
SIGN_IN_VIEW, CONFIRM_PASSWORD_VIEW = "auth.sign_in_view", "freshness.reauth"
login_manager = LoginManager()
login_manager.login_view = SIGN_IN_VIEW
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"
login_manager.refresh_view = CONFIRM_PASSWORD_VIEW
# Off: hashing IP and user agent into the session breaks on every network change and
# stops nothing (both are easy to copy). The live SignIn row is the server-side check.
# Flask-Login documents None for "off"; its attribute is untyped, so mypy infers str.
login_manager.session_protection = None  # type: ignore[assignment]
