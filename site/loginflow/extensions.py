"""The Flask extensions, created unbound so every module can import them."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base for the typed SQLAlchemy 2 models."""


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
# No default limits: each throttled view says what it counts (throttle.py).
limiter = Limiter(key_func=get_remote_address)

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"
login_manager.refresh_view = "freshness.reauth"
# Off: hashing IP and user agent into the session breaks on every network change and
# stops nothing (both are easy to copy). The live SignIn row is the server-side check.
login_manager.session_protection = None
