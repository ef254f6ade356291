"""The comparison: a minimal site written the way Flask-Login's and Flask-SQLAlchemy's docs show.

The session holds the user's id, ``user_loader`` loads the user with ``db.session.get``,
Flask-WTF checks CSRF, and that is all: no server-side sign-in rows, no remember-cookie
rotation, no security headers. Its /account page has the weight of loginflow's (a base
layout with nav, a CSRF-protected sign-out form, flashed messages, formatted times, a small
table), so the two sites differ by what loginflow's pattern does, not by their pages.

Run it like loginflow, with FLASK_SECRET_KEY and FLASK_SQLALCHEMY_DATABASE_URI set.
"""

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask, flash, redirect, render_template, request, url_for
from flask.cli import with_appcontext
from flask.typing import ResponseReturnValue
from flask_login import (
    LoginManager,
    UserMixin,
    login_fresh,
    login_required,
    login_user,
    logout_user,
)
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect, FlaskForm
from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Base(DeclarativeBase):
    """Declarative base for the typed models, as Flask-SQLAlchemy's quickstart has it."""


db = SQLAlchemy(model_class=Base)
# mypy cannot take db.Model, made at run time, as a base class (see loginflow's extensions).
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
login_manager = LoginManager()
login_manager.login_view = "login"
csrf = CSRFProtect()


def utcnow() -> datetime:
    return datetime.now(UTC)


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Remember me")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Flask-Login's documented loader: the user whose id the session holds."""
    return db.session.get(User, int(user_id))


def index() -> str:
    """Home: says who is signed in."""
    return render_template("index.html")


def login() -> ResponseReturnValue:
    """Sign in with a username and password, optionally remembered by Flask-Login's cookie."""
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data))
        if user is not None and check_password_hash(user.password_hash, form.password.data or ""):
            login_user(user, remember=form.remember.data)
            user.last_sign_in_at = utcnow()
            db.session.commit()
            flash(f"Welcome back, {user.username}.", "success")
            return redirect(url_for("account"))
        flash("Invalid username or password.", "error")
    return render_template("login.html", form=form)


@login_required
def account() -> str:
    """The protected page: who you are and when you signed in."""
    return render_template(
        "account.html",
        remembered="remember_token" in request.cookies,
        fresh=login_fresh(),
        now=utcnow(),
    )


@login_required
def logout() -> ResponseReturnValue:
    """Sign out (a POST, so Flask-WTF's CSRF check covers it)."""
    logout_user()
    flash("You are signed out.", "success")
    return redirect(url_for("index"))


@click.command("create-user")
@click.argument("username")
@with_appcontext
def create_user(username: str) -> None:
    """Create an account; the password is one line on standard input."""
    password = sys.stdin.readline().rstrip("\n")
    db.session.add(User(username=username, password_hash=generate_password_hash(password)))
    db.session.commit()
    click.echo(f"Created user {username}.")


def create_app() -> Flask:
    """The site, configured from FLASK_* environment variables as in Flask's docs."""
    app = Flask(
        __name__,
        template_folder=str(Path(__file__).parent / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_prefixed_env()
    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    app.add_url_rule("/", view_func=index)
    app.add_url_rule("/login", view_func=login, methods=["GET", "POST"])
    app.add_url_rule("/account", view_func=account)
    app.add_url_rule("/logout", view_func=logout, methods=["POST"])
    app.cli.add_command(create_user)

    @app.template_filter("when")
    def when(moment: datetime | None) -> str:
        return moment.strftime("%-d %b %Y, %H:%M UTC") if moment else "never"

    with app.app_context():
        db.create_all()
    return app
