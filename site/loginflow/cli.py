"""The operator's commands: create an account, end sign-ins (a user's, or all), purge ended ones.

Run as ``flask --app loginflow create-user NAME``, ``... sign-ins end NAME`` (or
``--all``) and ``... sign-ins purge --older-than DAYS``. Each prints one line of result; a
bad name or value prints one line, ``Error: ...``, and exits with status 1, so scripts can
rely on both.
"""

import sys
import unicodedata
from datetime import timedelta
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.datastructures import MultiDict

from . import sign_ins
from .extensions import db
from .forms import PASSWORD_MAX, RegisterForm
from .models import User
from .passwords import hash_password

# A century reaches back before any sign-in; much further, and date arithmetic overflows.
MAX_DAYS = 36500


class OneLineErrorCommand(click.Command):
    """A command whose malformed arguments, and a database that fails it, get the one
    ``Error:`` line, not the usage text or a traceback.

    Every failure then looks alike to the operator and to the script that runs the command.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise click.ClickException(error.format_message()) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SQLAlchemyError as error:
            db.session.rollback()
            # The kind of failure only: the driver's message may quote the statement.
            raise click.ClickException(
                f"The database refused the change ({type(getattr(error, 'orig', error)).__name__})."
            ) from None


@click.command("create-user", cls=OneLineErrorCommand)
@click.argument("username")
@with_appcontext
def create_user(username: str) -> None:
    """Create an account, with the same rules as the register page.

    The password is typed twice at a terminal, or piped in as one line: never an
    argument, since arguments show in ``ps`` and in the shell's history.
    """
    # The name first, so that a typo costs no password typing.
    name_only = _register_form(username=username)
    if not name_only.username.validate(name_only):
        raise click.ClickException(name_only.username.errors[0])
    password, confirm = _read_new_password()
    form = _register_form(username=username, password=password, confirm=confirm)
    if not form.validate():
        raise click.ClickException(next(error for field in form for error in field.errors))
    name = form.username.data
    db.session.add(User(username=name, password_hash=hash_password(password)))
    try:
        db.session.commit()
    except IntegrityError:
        # The unique index decides, as on the register page: no check-then-insert race.
        db.session.rollback()
        raise click.ClickException(f"The username {name} is taken.") from None
    click.echo(f"Created user {name}.")


sign_ins_commands = AppGroup("sign-ins", help="End or purge the sign-ins of browsers.")


@sign_ins_commands.command("end", cls=OneLineErrorCommand)
@click.argument("username", required=False)
@click.option("--all", "everyone", is_flag=True, help="End every sign-in of every account.")
def end(username: str | None, everyone: bool) -> None:
    """Sign USERNAME out of every browser at once: the answer to a stolen password or cookie.

    With --all instead, every account is signed out everywhere: the answer to a breach.
    """
    # One or the other, never a guess: --all with a name may be a typo for that name alone.
    if everyone and username is not None:
        raise click.ClickException("Give a USERNAME or --all, not both.")
    if everyone:
        ended = sign_ins.end_everyone()
        click.echo(f"Ended {ended} sign-in{'' if ended == 1 else 's'} of every account.")
        return
    if username is None:
        raise click.ClickException("Give a USERNAME, or --all for every account.")
    user = db.session.scalar(User.named(username))
    if user is None:
        raise click.ClickException(f"No user is named {username!r}.")
    ended = sign_ins.end_all(user)
    click.echo(f"Ended {ended} sign-in{'' if ended == 1 else 's'} of {user.username}.")


def _days_in_bounds(ctx: click.Context, param: click.Parameter, days: int) -> int:
    if not 0 <= days <= MAX_DAYS:
        raise click.BadParameter(f"{days} is not a number of days from 0 to {MAX_DAYS}.")
    return days


@sign_ins_commands.command("purge", cls=OneLineErrorCommand)
@click.option(
    "--older-than",
    "days",
    type=int,
    required=True,
    callback=_days_in_bounds,
    metavar="DAYS",
    help=f"Delete the sign-ins that ended more than this many days ago (0 to {MAX_DAYS}).",
)
def purge(days: int) -> None:
    """Delete the sign-ins that ended more than DAYS ago.

    No cookie can use a sign-in once it is revoked or out of force, yet its row still holds
    a browser's user agent and times: kept no longer than needed.
    """
    deleted = sign_ins.purge(timedelta(days=days))
    click.echo(
        f"Deleted {deleted} sign-in{'' if deleted == 1 else 's'} ended more than "
        f"{days} day{'' if days == 1 else 's'} ago."
    )


def init_app(app: Flask) -> None:
    app.cli.add_command(create_user)
    app.cli.add_command(sign_ins_commands)


def _register_form(**data: str) -> RegisterForm:
    # No CSRF token: there is no browser, so no other site that could forge the request.
    return RegisterForm(formdata=MultiDict(data), meta={"csrf": False})


def _read_new_password() -> tuple[str, str]:
    """The password and its confirmation: typed twice, hidden, at a terminal; else one line."""
    if sys.stdin.isatty():
        # Prompts go to standard error: standard output holds the one result line alone.
        password = click.prompt("Password", hide_input=True, err=True)
        return password, click.prompt("Confirm password", hide_input=True, err=True)
    # One character beyond the longest line a password can come in (a byte-order mark, the
    # longest password allowed, "\r\n"): a longer line is refused without being read whole,
    # never cut to a shorter password that passes.
    try:
        line = sys.stdin.readline(len("\ufeff") + PASSWORD_MAX + len("\r\n") + 1)
    except UnicodeDecodeError:
        raise click.ClickException(
            "The password must be text in the terminal's encoding."
        ) from None
    # A line ending, as Windows writes it too, and a byte-order mark, as Windows editors
    # begin a file with, are not part of the password.
    password = line.removesuffix("\n").removesuffix("\r").removeprefix("\ufeff")
    categories = {unicodedata.category(c) for c in password}
    if "Cs" in categories:  # what undecodable bytes become: they cannot even be hashed
        raise click.ClickException("The password must be text in the terminal's encoding.")
    if categories & {"Cc", "Zl", "Zp"}:
        # Control characters and line separators: nobody can type them into the form.
        raise click.ClickException("The password must not hold control characters.")
    return password, password
