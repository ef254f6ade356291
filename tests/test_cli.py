"""The operator's commands: create-user, sign-ins end and sign-ins purge."""

import io
import logging
from datetime import datetime, timedelta

import click
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from loginflow import cli
from loginflow.extensions import db
from loginflow.models import SignIn, User, utcnow
from loginflow.passwords import hash_password, verify_password

from .actions import PASSWORD, register, sign_in
from .test_security_log import security_lines

DAYS_ERROR = (
    "Error: Invalid value for '--older-than': {} is not a number of days from 0 to 36500.\n"
)


class Terminal(io.BytesIO):
    """Standard input that is a terminal: CliRunner's own input never is one."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def usernames(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(User.username).order_by(User.id)))


def the_user(app: Flask, username: str = "alice") -> User:
    with app.app_context():
        return db.session.scalar(User.named(username))


def test_create_user_takes_the_password_from_standard_input(
    app: Flask, runner: FlaskCliRunner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    result = runner.invoke(args=["create-user", "alice"], input=f"{PASSWORD}\n")
    assert (result.exit_code, result.output) == (0, "Created user alice.\n")
    assert verify_password(the_user(app).password_hash, PASSWORD)
    assert PASSWORD not in caplog.text


def test_piped_password_loses_its_trailing_newline_and_nothing_else(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["create-user", "alice"], input=f"  {PASSWORD} \n")
    assert result.exit_code == 0
    assert verify_password(the_user(app).password_hash, f"  {PASSWORD} ")
    assert not verify_password(the_user(app).password_hash, PASSWORD)


def test_create_user_at_a_terminal_asks_twice_without_echo(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient
) -> None:
    typed = Terminal(f"{PASSWORD}\n{PASSWORD}\n".encode())
    result = runner.invoke(args=["create-user", "alice"], input=typed)
    assert result.exit_code == 0
    assert result.stdout == "Created user alice.\n"
    # The prompts, on standard error; what was typed is not echoed anywhere.
    assert result.stderr == "Password: \nConfirm password: \n"
    assert sign_in(client).headers["Location"] == "/account"


def test_create_user_at_a_terminal_refuses_two_different_passwords(
    app: Flask, runner: FlaskCliRunner
) -> None:
    typed = Terminal(f"{PASSWORD}\n{PASSWORD}!\n".encode())
    result = runner.invoke(args=["create-user", "alice"], input=typed)
    assert result.exit_code == 1
    assert result.stderr == "Password: \nConfirm password: \nError: The two passwords differ.\n"
    assert usernames(app) == []


def test_a_bad_username_is_refused_before_the_password_is_asked(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["create-user", "al"], input=Terminal(b""))
    assert result.exit_code == 1
    assert result.output == "Error: Use 3 to 32 characters.\n"


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("al", PASSWORD, "Use 3 to 32 characters."),
        (
            "alice smith",
            PASSWORD,
            "Use only the letters a to z, digits, dots, underscores or hyphens.",
        ),
        ("a" * 33, PASSWORD, "Use 3 to 32 characters."),
        ("alíce", PASSWORD, "Use only the letters a to z, digits, dots, underscores or hyphens."),
        ("alice", "", "Choose a password."),
        ("alice", "eleven char", "Use 12 to 128 characters; any characters will do."),
        ("alice", "x" * 129, "Use 12 to 128 characters; any characters will do."),
        (
            "alice",
            "password1234",
            "That password is easy to guess. This is a very common password. "
            "Add a few unrelated words.",
        ),
        ("alice", "alice battery staple", "Leave your username out of your password."),
    ],
)
def test_create_user_follows_the_register_pages_rules(
    app: Flask, runner: FlaskCliRunner, username: str, password: str, message: str
) -> None:
    result = runner.invoke(args=["create-user", username], input=f"{password}\n")
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")
    assert usernames(app) == []


def test_create_user_refuses_a_taken_name_in_any_case(app: Flask, runner: FlaskCliRunner) -> None:
    runner.invoke(args=["create-user", "alice"], input=f"{PASSWORD}\n")
    result = runner.invoke(args=["create-user", "ALICE"], input=f"{PASSWORD}\n")
    assert (result.exit_code, result.output) == (1, "Error: The username ALICE is taken.\n")
    assert usernames(app) == ["alice"]


def test_create_user_without_a_name_says_so_in_one_line(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-user"])
    assert (result.exit_code, result.output) == (1, "Error: Missing argument 'USERNAME'.\n")


def test_sign_ins_end_signs_every_browser_of_the_user_out(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginflow.security")
    register(client)  # signs in
    remembered = app.test_client()
    sign_in(remembered, remember=True)
    bob = app.test_client()
    register(bob, "bob")
    assert client.get("/account").status_code == remembered.get("/account").status_code == 200

    result = runner.invoke(args=["sign-ins", "end", "ALICE"])
    assert (result.exit_code, result.output) == (0, "Ended 2 sign-ins of alice.\n")
    with app.app_context():
        rows = db.session.scalars(select(SignIn).join(SignIn.user).where(User.username == "alice"))
        assert all(row.revoked_at is not None for row in rows)
    for browser in (client, remembered):
        assert browser.get("/account").headers["Location"] == "/login?next=/account"
    assert bob.get("/account").status_code == 200
    assert ("sign_ins_ended", "alice", "-") in security_lines(caplog)


def test_sign_ins_end_counts_only_sign_ins_still_in_force(
    runner: FlaskCliRunner, client: FlaskClient
) -> None:
    register(client)
    assert runner.invoke(args=["sign-ins", "end", "alice"]).output == "Ended 1 sign-in of alice.\n"
    assert runner.invoke(args=["sign-ins", "end", "alice"]).output == "Ended 0 sign-ins of alice.\n"


def test_sign_ins_end_refuses_an_unknown_user(
    runner: FlaskCliRunner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginflow.security")
    result = runner.invoke(args=["sign-ins", "end", "nobody"])
    assert (result.exit_code, result.output) == (1, "Error: No user is named 'nobody'.\n")
    assert security_lines(caplog) == []


def test_sign_ins_end_all_signs_every_browser_of_every_account_out(
    app: Flask, runner: FlaskCliRunner, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginflow.security")
    alice, alice_remembered, bob, bob_remembered = (app.test_client() for _ in range(4))
    register(alice)  # signs in
    sign_in(alice_remembered, remember=True)
    register(bob, "bob")
    sign_in(bob_remembered, "bob", remember=True)
    browsers = (alice, alice_remembered, bob, bob_remembered)
    assert [browser.get("/account").status_code for browser in browsers] == [200] * 4

    result = runner.invoke(args=["sign-ins", "end", "--all"])
    assert (result.exit_code, result.output) == (0, "Ended 4 sign-ins of every account.\n")
    with app.app_context():
        assert db.session.scalars(select(SignIn.revoked_at)).all().count(None) == 0
    for browser in browsers:
        # The remember cookie brings no sign-in back either: its row is revoked too.
        assert browser.get("/account").headers["Location"] == "/login?next=/account"
        assert browser.get("/account").headers["Location"] == "/login?next=/account"
    assert security_lines(caplog)[-1] == ("every_sign_in_ended", "-", "-")
    assert sign_in(bob, "bob").headers["Location"] == "/account"  # the password still works


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Error: Give a USERNAME, or --all for every account.\n"),
        (["alice", "--all"], "Error: Give a USERNAME or --all, not both.\n"),
        (["--all", "alice"], "Error: Give a USERNAME or --all, not both.\n"),
    ],
)
def test_sign_ins_end_takes_a_username_or_all_and_never_both(
    runner: FlaskCliRunner,
    client: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    args: list[str],
    message: str,
) -> None:
    caplog.set_level(logging.INFO, logger="loginflow.security")
    register(client)
    caplog.clear()
    result = runner.invoke(args=["sign-ins", "end", *args])
    assert (result.exit_code, result.output) == (1, message)
    assert client.get("/account").status_code == 200
    assert security_lines(caplog) == []


def add_sign_ins(app: Flask, **rows: dict[str, datetime | None]) -> None:
    """Store sign-ins of alice, each labelled by its user agent, with the times given."""
    with app.app_context():
        alice = User(username="alice", password_hash=hash_password(PASSWORD))
        for label, times in rows.items():
            db.session.add(
                SignIn(
                    user=alice,
                    user_agent=label,
                    password_version=1,
                    **SignIn.new_session("password") | times,
                )
            )
        db.session.commit()


def labels(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(select(SignIn.user_agent)))


def test_purge_deletes_sign_ins_ended_before_the_cutoff_and_keeps_the_rest(
    app: Flask, runner: FlaskCliRunner
) -> None:
    idle, absolute = app.config["SIGN_IN_IDLE_TIMEOUT"], app.config["SIGN_IN_ABSOLUTE_TIMEOUT"]
    now = utcnow()
    cutoff, edge = now - timedelta(days=30), timedelta(minutes=1)
    long_ago = now - timedelta(days=90)
    remembered = {"created_at": now, "last_seen_at": now, "remember_expires_at": now + edge}
    add_sign_ins(
        app,
        # Revoked: in force by its times, so revocation alone decides.
        revoked_before=remembered | {"revoked_at": cutoff - edge},
        revoked_after=remembered | {"revoked_at": cutoff + edge},
        idle_before={"created_at": cutoff - idle - edge, "last_seen_at": cutoff - idle - edge},
        idle_after={"created_at": cutoff - idle + edge, "last_seen_at": cutoff - idle + edge},
        absolute_before={"created_at": cutoff - absolute - edge, "last_seen_at": cutoff},
        absolute_after={"created_at": cutoff - absolute + edge, "last_seen_at": cutoff},
        remember_before={
            "created_at": long_ago,
            "last_seen_at": long_ago,
            "remember_expires_at": cutoff - edge,
        },
        remember_after={
            "created_at": long_ago,
            "last_seen_at": long_ago,
            "remember_expires_at": cutoff + edge,
        },
        live={"created_at": now, "last_seen_at": now},
    )
    result = runner.invoke(args=["sign-ins", "purge", "--older-than", "30"])
    assert (result.exit_code, result.output) == (
        0,
        "Deleted 4 sign-ins ended more than 30 days ago.\n",
    )
    assert labels(app) == {
        "revoked_after",
        "idle_after",
        "absolute_after",
        "remember_after",
        "live",
    }


@pytest.mark.parametrize(
    ("days", "output"),
    [
        ("0", "Deleted 1 sign-in ended more than 0 days ago.\n"),
        ("1", "Deleted 1 sign-in ended more than 1 day ago.\n"),
        ("2", "Deleted 0 sign-ins ended more than 2 days ago.\n"),
        ("36500", "Deleted 0 sign-ins ended more than 36500 days ago.\n"),
    ],
)
def test_purge_says_what_it_deleted(
    app: Flask, runner: FlaskCliRunner, days: str, output: str
) -> None:
    add_sign_ins(app, revoked={"revoked_at": utcnow() - timedelta(days=1, hours=1)})
    result = runner.invoke(args=["sign-ins", "purge", "--older-than", days])
    assert (result.exit_code, result.output) == (0, output)


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (["--older-than", "-1"], DAYS_ERROR.format("-1")),
        (["--older-than=-30"], DAYS_ERROR.format("-30")),
        (["--older-than", "36501"], DAYS_ERROR.format("36501")),
        (
            ["--older-than", "9" * 5000],  # more digits than Python turns into an int
            f"Error: Invalid value for '--older-than': '{'9' * 5000}' is not a valid integer.\n",
        ),
        (
            ["--older-than", "thirty"],
            "Error: Invalid value for '--older-than': 'thirty' is not a valid integer.\n",
        ),
        (
            ["--older-than", "1.5"],
            "Error: Invalid value for '--older-than': '1.5' is not a valid integer.\n",
        ),
        ([], "Error: Missing option '--older-than'.\n"),
        (["--older-than"], "Error: Option '--older-than' requires an argument.\n"),
    ],
)
def test_purge_refuses_a_bad_number_of_days_in_one_line(
    app: Flask, runner: FlaskCliRunner, arguments: list[str], error: str
) -> None:
    add_sign_ins(app, revoked={"revoked_at": utcnow() - timedelta(days=90)})
    result = runner.invoke(args=["sign-ins", "purge", *arguments])
    assert (result.exit_code, result.output) == (1, error)
    assert labels(app) == {"revoked"}


@pytest.mark.parametrize(
    ("piped", "message"),
    [
        (f"{PASSWORD}\x1b[A\n", "Error: The password must not hold control characters.\n"),
        (b"\xff\xfe not text\n", None),
    ],
)
def test_piped_password_is_text_without_control_characters(
    app: Flask, runner: FlaskCliRunner, piped: str | bytes, message: str | None
) -> None:
    result = runner.invoke(args=["create-user", "alice"], input=piped)
    if isinstance(piped, bytes):
        # Undecodable bytes: refused in one line, whichever way the terminal decodes them.
        assert result.exit_code == 1
        assert result.output.count("\n") == 1
        assert result.output.startswith("Error: The password must")
        assert usernames(app) == []
    elif message is None:
        assert result.exit_code == 0
        assert verify_password(the_user(app).password_hash, PASSWORD)
    else:
        assert (result.exit_code, result.output) == (1, message)
        assert usernames(app) == []


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        # The driver's error, which SQLAlchemy wraps: its kind, never the statement's values.
        (
            OperationalError("INSERT INTO users ...", {"password_hash": "hash"}, Exception()),
            "Exception",
        ),
        # SQLAlchemy's own, with no driver error inside: no connection free in the pool.
        (PoolTimeout("QueuePool limit of size 5 overflow 10 reached"), "TimeoutError"),
    ],
    ids=["driver error", "pool timeout"],
)
def test_a_failing_database_gets_one_line_without_the_statements_values(
    app: Flask,
    runner: FlaskCliRunner,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
    kind: str,
) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise failure

    monkeypatch.setattr(db.session, "commit", refuse)
    result = runner.invoke(args=["create-user", "alice"], input=f"{PASSWORD}\n")
    assert (result.exit_code, result.output) == (
        1,
        f"Error: The database refused the change ({kind}).\n",
    )


def test_a_piped_line_is_read_only_one_character_beyond_the_longest_that_can_hold_a_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The longest such line: a byte-order mark, 128 characters and "\r\n", 131 in all.
    stdin = io.StringIO("x" * 1_000_000, newline="\n")
    monkeypatch.setattr("sys.stdin", stdin)
    cli._read_new_password()
    assert stdin.tell() == 132


def test_a_windows_line_ending_is_not_part_of_the_password(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real pipe keeps the "\r"; CliRunner's input would turn "\r\n" into "\n" first.
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\r\n", newline=""))
    assert cli._read_new_password() == (PASSWORD, PASSWORD)


# The longest password a person can choose: 128 characters.
LONGEST = (PASSWORD + " ") * 4 + "x" * 12


@pytest.mark.parametrize(
    ("line", "outcome"),
    [
        (f"\ufeff{PASSWORD}\n", (PASSWORD, PASSWORD)),  # a byte-order mark is not typed
        (f"{PASSWORD}\x85\n", "Error: The password must not hold control characters."),
        (f"{PASSWORD}\u2028\n", "Error: The password must not hold control characters."),
        (f"{PASSWORD}\u2029\n", "Error: The password must not hold control characters."),
        # A line longer than the longest password is read far enough to be refused, by the
        # length rule (then create-user's form) or for its "\r", never cut to 128 characters.
        (f"\ufeff{LONGEST}y\n", (f"{LONGEST}y", f"{LONGEST}y")),
        (f"{LONGEST}\ry\n", "Error: The password must not hold control characters."),
        (f"\ufeff{LONGEST}\ry\n", "Error: The password must not hold control characters."),
        (f"\ufeff{LONGEST}\r\n", (LONGEST, LONGEST)),
        (f"{PASSWORD}\udcff\n", "Error: The password must be text in the terminal's encoding."),
    ],
)
def test_a_piped_password_is_what_a_person_could_type(
    monkeypatch: pytest.MonkeyPatch, line: str, outcome: tuple[str, str] | str
) -> None:
    # As Python reads a pipe on POSIX: a line ends at "\n" alone, and a "\r" is kept.
    monkeypatch.setattr("sys.stdin", io.StringIO(line, newline="\n"))
    if isinstance(outcome, tuple):
        assert cli._read_new_password() == outcome
    else:
        with pytest.raises(click.ClickException) as refused:
            cli._read_new_password()
        assert f"Error: {refused.value.format_message()}" == outcome
