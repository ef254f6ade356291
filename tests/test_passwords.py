"""Password rules: easy passwords refused, long ones never hashed, outdated hashes renewed."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from loginflow import auth, passwords, sign_ins
from loginflow.extensions import db
from loginflow.models import SignIn, User

from .actions import PASSWORD, csrf_token, register, sign_in, sign_out


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("alice", "password1234", "This is a very common password."),
        ("alice", "qwertyuiop123", "That password is easy to guess."),
        ("alice", "111111111111", "That password is easy to guess."),
        ("alice", "alice2024alice", "Leave your username out of your password."),
        ("robert", "my name is ROBERT!", "Leave your username out of your password."),
        ("bob", "horse battery staple bob", "Leave your username out of your password."),
        # The username backwards: zxcvbn, told the username, finds it; it gives no warning.
        (
            "kettledrum",
            "murdelttek!!",
            "That password is easy to guess. Add a few unrelated words.",
        ),
    ],
)
def test_easy_passwords_are_refused_with_a_reason(
    client: FlaskClient, app: Flask, username: str, password: str, message: str
) -> None:
    response = register(client, username, password)
    assert response.status_code == 422
    assert message in response.text
    with app.app_context():
        assert db.session.scalar(select(User)) is None


# The site's own name, with a year and a symbol: what a person asked for a password here
# types first, and so what a guesser tries first. Disguised, it is found all the same.
@pytest.mark.parametrize(
    "password", ["loginflow2026!", "LoginFlow!2026", "l0ginfl0w2026!", "wolfnigol2026"]
)
def test_passwords_built_on_the_sites_own_words_are_refused(
    client: FlaskClient, app: Flask, password: str
) -> None:
    response = register(client, "alice", password)
    assert response.status_code == 422
    assert "That password is easy to guess. Add a few unrelated words." in response.text
    with app.app_context():
        assert db.session.scalar(select(User)) is None


# "correct horse" scores 3, the least that passes: out of reach of an online attack. The
# site's name among unrelated words is no weakness.
@pytest.mark.parametrize(
    "password",
    [
        PASSWORD,
        "mauve otter ledger 1987",
        "Zq8#vL2!pT9@wE4",
        "correct horse",
        "loginflow mauve otter",
    ],
)
def test_hard_to_guess_passwords_are_accepted(client: FlaskClient, password: str) -> None:
    assert register(client, "alice", password).status_code == 302


@pytest.mark.parametrize("password", [PASSWORD, "", "not anyone's password"])
def test_no_password_matches_a_missing_hash_not_even_the_dummys_own(
    app: Flask, password: str
) -> None:
    with app.app_context():
        assert passwords.verify_password(None, password) is False


def test_strength_is_judged_on_a_bounded_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    monkeypatch.setattr(passwords, "zxcvbn", lambda pw, inputs: seen.append(pw) or _Strong())
    assert passwords.guessability_problem("x" * 128, "alice") is None
    assert seen == ["x" * passwords.STRENGTH_CHECKED_CHARS]


class _Strong:
    score = 4
    feedback = None


@pytest.mark.parametrize("path", ["/login", "/register"])
def test_oversized_password_is_refused_without_hashing(
    signed_up: FlaskClient, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    hashed = []
    monkeypatch.setattr(passwords, "check_password_hash", lambda *a: hashed.append(1))
    monkeypatch.setattr(passwords, "generate_password_hash", lambda *a: hashed.append(1))
    long = "x" * 20_000  # twice over, still under the body limit; far over any password
    data = {"username": "bob", "password": long, "confirm": long}
    response = signed_up.post(path, data=data | {"csrf_token": csrf_token(signed_up, path)})
    assert response.status_code == 422
    assert hashed == []


def test_password_of_the_longest_allowed_length_signs_in(client: FlaskClient) -> None:
    longest = "correct horse battery staple " * 4 + "x" * 12  # 128 characters
    assert len(longest) == 128
    assert register(client, "alice", longest).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert sign_in(client, "alice", longest).status_code == 302


def test_no_more_password_checks_run_at_once_than_there_are_slots(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def slow_check(*_: object) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return False

    monkeypatch.setattr(passwords, "check_password_hash", slow_check)

    def sign_in_attempt(_: int) -> bool:
        with app.test_request_context():
            return passwords.verify_password("stored", "guess")

    with ThreadPoolExecutor(max_workers=passwords.MAX_CONCURRENT_HASHES * 4) as pool:
        assert not any(pool.map(sign_in_attempt, range(passwords.MAX_CONCURRENT_HASHES * 8)))
    assert most == passwords.MAX_CONCURRENT_HASHES


def stored_hash(app: Flask) -> str:
    with app.app_context():
        return db.session.scalar(select(User.password_hash))


def test_sign_in_replaces_a_hash_made_with_other_settings(
    app: Flask, signed_up: FlaskClient
) -> None:
    assert stored_hash(app).startswith("pbkdf2:sha256:1$")
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:2"
    sign_in(signed_up, password="not the password at all")
    assert stored_hash(app).startswith("pbkdf2:sha256:1$")  # a wrong password changes nothing
    assert sign_in(signed_up).status_code == 302
    rehashed = stored_hash(app)
    assert rehashed.startswith("pbkdf2:sha256:2$")
    assert check_password_hash(rehashed, PASSWORD)
    sign_out(signed_up)
    assert sign_in(signed_up).status_code == 302
    assert stored_hash(app) == rehashed  # current already: not hashed again


def test_a_hash_with_the_default_parameters_spelled_out_is_current(
    app: Flask, signed_up: FlaskClient
) -> None:
    """ "scrypt" and "scrypt:32768:8:1" are one method: no rehash between them."""
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    with app.app_context():
        db.session.execute(
            update(User).values(password_hash=generate_password_hash(PASSWORD, "scrypt:32768:8:1"))
        )
        db.session.commit()
    before = stored_hash(app)
    assert sign_in(signed_up).status_code == 302
    assert stored_hash(app) == before


def test_a_sign_in_checked_against_a_password_changed_meanwhile_is_dead(
    app: Flask, signed_up: FlaskClient
) -> None:
    """The check takes a while (scrypt); a change may commit between it and the new row."""
    with app.test_request_context():
        user, version = auth.authenticate("alice", PASSWORD)
        db.session.execute(update(User).values(password_version=User.password_version + 1))
        db.session.commit()  # another browser changed the password
        auth.sign_in(user, password_version=version, remember_me=True)
        row = db.session.scalar(select(SignIn).order_by(SignIn.id.desc()))
        assert db.session.scalar(SignIn.live().where(SignIn.id == row.id)) is None
        assert auth.load_user(row.session_token) is None


def test_only_one_of_two_changes_at_once_wins(app: Flask, signed_up: FlaskClient) -> None:
    sign_in(signed_up)
    with app.test_request_context():
        user = db.session.scalar(select(User))
        first = db.session.scalars(SignIn.live()).all()[-1]
        version = user.password_version
        assert (
            passwords.change_password(
                user, "first new password here", version=version, this_sign_in=first
            )
            == 0
        )
        assert (
            passwords.change_password(
                user, "second new password here", version=version, this_sign_in=first
            )
            is None
        )
        assert check_password_hash(
            db.session.scalar(select(User.password_hash)), "first new password here"
        )


def test_an_ended_sign_in_cannot_go_on_to_change_the_password(
    app: Flask, signed_up: FlaskClient
) -> None:
    sign_in(signed_up)
    with app.test_request_context():
        user = db.session.scalar(select(User))
        [row] = db.session.scalars(SignIn.live()).all()
        sign_ins.end(row)  # another browser pressed End a moment ago
        changed = passwords.change_password(
            user, "a new password here", version=user.password_version, this_sign_in=row
        )
        assert changed is None
        assert check_password_hash(db.session.scalar(select(User.password_hash)), PASSWORD)
        assert db.session.scalar(select(User.password_version)) == 1


def test_a_rehash_never_overwrites_a_password_changed_during_the_check(
    app: Flask, signed_up: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:2"  # the stored hash is outdated
    real_verify = passwords.verify_password
    changed_hash = generate_password_hash("the owner's new password", "pbkdf2:sha256:2")

    def verify_while_the_owner_changes_it(stored: str | None, password: str) -> bool:
        matches = real_verify(stored, password)
        db.session.execute(update(User).values(password_hash=changed_hash, password_version=2))
        db.session.commit()
        return matches

    monkeypatch.setattr(passwords, "verify_password", verify_while_the_owner_changes_it)
    assert sign_in(signed_up).status_code == 422  # no sign-in with the old password
    assert stored_hash(app) == changed_hash


def test_a_change_touches_only_its_own_account(app: Flask, signed_up: FlaskClient) -> None:
    bob = app.test_client()
    register(bob, "bob")
    with app.app_context():
        bobs_hash = db.session.scalar(select(User.password_hash).where(User.username == "bob"))
    sign_in(signed_up)
    with app.test_request_context():
        alice = db.session.scalar(User.named("alice"))
        [row] = db.session.scalars(SignIn.live().where(SignIn.user_id == alice.id)).all()
        assert (
            passwords.change_password(alice, "a new password here", version=1, this_sign_in=row)
            == 0
        )
        assert (
            db.session.scalar(select(User.password_hash).where(User.username == "bob")) == bobs_hash
        )
    assert bob.get("/account").status_code == 200
