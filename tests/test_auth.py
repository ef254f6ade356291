"""Register, sign in and sign out, as the browser and the database see them."""

import logging
import re
import secrets
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from loginflow import models, passwords
from loginflow.extensions import db
from loginflow.forms import PASSWORD_MAX
from loginflow.models import SignIn, User

from .actions import (
    PASSWORD,
    attributes,
    csrf_token,
    register,
    set_cookie,
    sign_in,
    sign_out,
    sql_statements,
)
from .test_pages import Elements
from .test_security_log import security_lines


def session_user(client: FlaskClient) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def test_register_signs_in_without_remembering(client: FlaskClient, app: Flask) -> None:
    response = register(client, "Alice")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    assert set_cookie(response, "remember") is None
    assert "Alice" in client.get("/account").text
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.username == "Alice"
        assert user.password_hash.startswith("pbkdf2:sha256:1$")  # hashed, never stored as typed
        assert PASSWORD not in user.password_hash
        row = db.session.scalar(select(SignIn))
        assert (row.user_id, row.session_began_by, row.revoked_at) == (user.id, "password", None)
        assert row.remember_selector is None


def test_register_refuses_a_username_taken_in_another_letter_case(client: FlaskClient) -> None:
    register(client, "Alice")
    sign_out(client)
    response = register(client, "aLICE")
    assert response.status_code == 422
    assert "That username is taken." in response.text
    assert session_user(client) is None


ONLY_ASCII = "Use only the letters a to z, digits, dots, underscores or hyphens."


def test_register_explains_each_invalid_field(client: FlaskClient, app: Flask) -> None:
    cases = [
        ({"username": "al"}, "Use 3 to 32 characters."),
        ({"username": "a" * 33}, "Use 3 to 32 characters."),
        ({"username": "al ice"}, ONLY_ASCII),
        ({"username": "\u0430lice"}, ONLY_ASCII),  # a Cyrillic look-alike "a"
        ({"password": "short", "confirm": "short"}, "Use 12 to 128 characters"),
        ({"password": "x" * 129, "confirm": "x" * 129}, "Use 12 to 128 characters"),
        ({"confirm": PASSWORD + "!"}, "The two passwords differ."),
        ({"username": ""}, "Choose a username."),
    ]
    for change, message in cases:
        data = {"username": "alice", "password": PASSWORD, "confirm": PASSWORD} | change
        response = client.post("/register", data=data | {"csrf_token": csrf_token(client)})
        assert response.status_code == 422, change
        assert message in response.text, change
        # What was typed is kept, except passwords, which are never echoed back.
        assert PASSWORD not in response.text
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_any_characters_make_a_password(client: FlaskClient) -> None:
    password = "pässwörd 密码 🙂 \"'<>&"
    assert register(client, "alice", password).status_code == 302
    sign_out(client)
    assert sign_in(client, "alice", password).headers["Location"] == "/account"


SPACED_PASSWORD = "  Tangerine  harbour LANTERN  "
# The same password, changed as a site that "tidies" passwords would change it.
NOT_AS_TYPED = {
    "stripped": SPACED_PASSWORD.strip(),
    "without its leading spaces": SPACED_PASSWORD.lstrip(),
    "without its trailing spaces": SPACED_PASSWORD.rstrip(),
    "single spaces": re.sub(" +", " ", SPACED_PASSWORD),
    "lower case": SPACED_PASSWORD.lower(),
    "upper case": SPACED_PASSWORD.upper(),
}


@pytest.mark.parametrize("typed", NOT_AS_TYPED.values(), ids=NOT_AS_TYPED.keys())
def test_a_password_signs_in_only_exactly_as_it_was_chosen(
    client: FlaskClient, app: Flask, typed: str
) -> None:
    assert_refused_after_choosing(client, SPACED_PASSWORD, typed)
    with app.app_context():
        assert db.session.scalar(SignIn.live()) is None
    assert sign_in(client, "alice", SPACED_PASSWORD).status_code == 302


# The longest password a person may choose, and the same changed at its end: a check that
# read only a prefix of it (bcrypt reads 72 bytes) would take each change for it.
LONGEST_PASSWORD = ("Tangerine  harbour LANTERN " * 5)[: PASSWORD_MAX - 1] + "!"
LONGEST_CHANGED = {
    "last character changed": LONGEST_PASSWORD[:-1] + "?",
    "last character dropped": LONGEST_PASSWORD[:-1],
}


@pytest.mark.parametrize("typed", LONGEST_CHANGED.values(), ids=LONGEST_CHANGED.keys())
def test_the_longest_password_is_checked_to_its_last_character(
    client: FlaskClient, typed: str
) -> None:
    assert len(LONGEST_PASSWORD) == PASSWORD_MAX
    assert_refused_after_choosing(client, LONGEST_PASSWORD, typed)
    assert sign_in(client, "alice", LONGEST_PASSWORD).status_code == 302


def assert_refused_after_choosing(client: FlaskClient, chosen: str, typed: str) -> None:
    """alice, registered with ``chosen`` and signed out, is refused when she types ``typed``."""
    assert register(client, "alice", chosen).status_code == 302
    sign_out(client)
    response = sign_in(client, "alice", typed)
    assert response.status_code == 422
    assert "Invalid username or password." in response.text
    assert session_user(client) is None


def test_sign_in_without_remember_sets_a_browser_session_cookie_only(
    signed_up: FlaskClient,
) -> None:
    response = sign_in(signed_up, "ALICE")  # usernames match ignoring case
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    header = set_cookie(response, "session")
    cookie = attributes(header)
    assert "httponly" in cookie
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    # No Expires, no Max-Age: the cookie ends when the browser closes.
    assert "expires" not in cookie
    assert "max-age" not in cookie
    assert set_cookie(response, "remember") is None


def test_session_holds_the_sign_in_id_and_freshness_only(
    signed_up: FlaskClient, app: Flask
) -> None:
    sign_in(signed_up)
    with signed_up.session_transaction() as session:
        contents = dict(session)
    with app.app_context():
        row = db.session.scalar(select(SignIn).where(SignIn.revoked_at.is_(None)))
    assert contents["_user_id"] == row.session_token  # the SignIn's token, not the user's id
    # Short enough for its column, which PostgreSQL enforces (SQLite does not).
    assert len(row.session_token) <= SignIn.__table__.c.session_token.type.length
    assert contents["_fresh"] is True
    assert abs(contents["_fresh_at"] - time.time()) < 5  # when the password was typed
    assert set(contents) <= {"_user_id", "_fresh", "_fresh_at", "_id", "csrf_token", "_flashes"}


def test_session_token_is_drawn_from_secrets_with_at_least_128_bits(
    signed_up: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: dict[str, int] = {}  # each token secrets.token_urlsafe returned: the bytes asked for
    real = secrets.token_urlsafe

    def spy(nbytes: int | None = None) -> str:
        token = real(nbytes)
        drawn[token] = secrets.DEFAULT_ENTROPY if nbytes is None else nbytes
        return token

    monkeypatch.setattr(models.secrets, "token_urlsafe", spy)
    sign_in(signed_up)
    token = session_user(signed_up)
    assert token in drawn  # the cookie's token is the one secrets returned, not derived
    assert drawn[token] >= 16


SIGN_INS = 50
# secrets.token_urlsafe(16): 16 bytes in unpadded base64url, 22 characters at least.
SESSION_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,}")


def test_sign_ins_get_distinct_session_tokens_of_base64url(
    signed_up: FlaskClient, app: Flask
) -> None:
    in_cookies = []
    for _ in range(SIGN_INS):
        sign_in(signed_up)
        in_cookies.append(session_user(signed_up))
    with app.app_context():
        stored = db.session.scalars(select(SignIn.session_token).order_by(SignIn.id)).all()
    assert stored[1:] == in_cookies  # the first is the sign-up's
    assert len(set(stored)) == len(stored)
    assert [token for token in stored if not SESSION_TOKEN.fullmatch(token)] == []


def test_sign_in_starts_a_new_session(signed_up: FlaskClient) -> None:
    csrf_token(signed_up)  # viewing a form puts a CSRF token in the session
    with signed_up.session_transaction() as session:
        session["planted"] = "by someone else"
        old_csrf = session["csrf_token"]
    sign_in(signed_up)
    with signed_up.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != old_csrf


def test_unknown_user_and_wrong_password_look_the_same(signed_up: FlaskClient) -> None:
    unknown = sign_in(signed_up, "nobody", PASSWORD)
    wrong = sign_in(signed_up, "alice", "not the password at all")
    assert unknown.status_code == wrong.status_code == 422
    assert "Invalid username or password." in unknown.text

    def without_token(text: str) -> str:
        return "".join(line for line in text.splitlines() if "csrf_token" not in line)

    # The form keeps the typed username; apart from that the pages are identical.
    assert without_token(unknown.text).replace("nobody", "alice") == without_token(wrong.text)
    assert set_cookie(unknown, "remember") is None
    assert session_user(signed_up) is None


def test_unknown_user_costs_a_password_check_too(
    signed_up: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = []
    real_check = passwords.check_password_hash

    def counting_check(pwhash: str, password: str) -> bool:
        checked.append(pwhash.split("$")[0])
        return real_check(pwhash, password)

    monkeypatch.setattr(passwords, "check_password_hash", counting_check)
    sign_in(signed_up, "nobody", PASSWORD)
    sign_in(signed_up, "alice", "not the password at all")
    # One hash check each, with the same method, so both take as long.
    assert checked == ["pbkdf2:sha256:1", "pbkdf2:sha256:1"]


def inline_markup(page: str) -> list[tuple[str, dict[str, str | None]]]:
    """Elements of ``page`` that echoed markup would add: an inline script, or an element
    with an event handler. The site's own pages have neither."""
    return [
        (tag, attrs)
        for tag, attrs in Elements(page).found
        if (tag == "script" and not attrs.get("src")) or any(n.startswith("on") for n in attrs)
    ]


def test_a_refused_username_holding_markup_comes_back_as_text_in_its_box(
    signed_up: FlaskClient,
) -> None:
    typed = '"><script>alert(1)</script>'
    response = sign_in(signed_up, typed, "not the password at all")
    assert response.status_code == 422
    [box] = [
        attrs for tag, attrs in Elements(response.text).found if attrs.get("name") == "username"
    ]
    assert box["value"] == typed  # one attribute, holding every character typed
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in response.text
    assert inline_markup(response.text) == []


@pytest.mark.parametrize("refused", [False, True], ids=["opened", "refused"])
def test_a_next_path_holding_markup_comes_back_as_text_in_the_forms_action(
    signed_up: FlaskClient, refused: bool
) -> None:
    hostile = '/"><script>alert(1)</script>'  # a path on this site, so it is kept
    if refused:
        response = sign_in(signed_up, password="not the password at all", next_path=hostile)
    else:
        response = signed_up.get("/login", query_string={"next": hostile})
    [form] = [attrs for tag, attrs in Elements(response.text).found if tag == "form"]
    action = urlsplit(form["action"])
    assert (action.path, parse_qs(action.query)) == ("/login", {"next": [hostile]})
    assert "<script>alert" not in response.text
    assert inline_markup(response.text) == []


def test_failed_sign_in_never_echoes_the_password(signed_up: FlaskClient) -> None:
    response = sign_in(signed_up, "alice", "my secret guess 123")
    assert "my secret guess 123" not in response.text


def test_next_path_on_this_site_is_honoured(signed_up: FlaskClient) -> None:
    response = sign_in(signed_up, next_path="/account?tab=sessions")
    assert response.headers["Location"] == "/account?tab=sessions"


def test_account_requires_sign_in_and_comes_back_after_it(client: FlaskClient) -> None:
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account"


def test_signed_in_visit_to_login_goes_to_the_account(client: FlaskClient) -> None:
    register(client)
    assert client.get("/login").headers["Location"] == "/account"


def test_a_user_agent_longer_than_its_column_is_stored_cut_to_fit(
    signed_up: FlaskClient, app: Flask
) -> None:
    long_agent = "Mozilla/5.0 " + "x" * 600
    signed_up.environ_base["HTTP_USER_AGENT"] = long_agent
    assert sign_in(signed_up).status_code == 302
    with app.app_context():
        stored = db.session.scalar(select(SignIn.user_agent).order_by(SignIn.id.desc()))
    # PostgreSQL would refuse a longer one; SQLite would keep it.
    assert stored == long_agent[: SignIn.__table__.c.user_agent.type.length]


def test_sign_out_revokes_the_sign_in_and_clears_the_session(
    signed_up: FlaskClient, app: Flask
) -> None:
    sign_in(signed_up, remember=True)
    with signed_up.session_transaction() as session:
        session["note"] = "set while signed in"
    response = sign_out(signed_up)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    # The session cookie is re-set holding nothing but the flash message.
    with signed_up.session_transaction() as session:
        assert set(session) == {"_flashes"}
    assert "You are signed out." in signed_up.get("/").text
    remember = attributes(set_cookie(response, "remember"))
    assert remember["max-age"] == "0"
    assert (remember["path"], remember["samesite"]) == ("/", "Lax")
    assert "httponly" in remember
    with app.app_context():
        assert all(row.revoked_at is not None for row in db.session.scalars(select(SignIn)))


def test_sign_out_without_a_sign_in_signs_nobody_out_and_logs_no_name(
    signed_up: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginflow.security")
    # A signed-out browser posts the sign-out form, with a token from another of its forms.
    response = signed_up.post("/logout", data={"csrf_token": csrf_token(signed_up)})
    assert response.headers["Location"] == "/"
    assert "You are signed out." in signed_up.get("/").text
    assert security_lines(caplog) == [("sign_out", "-", "127.0.0.1")]


def test_replayed_session_cookie_is_dead_after_sign_out(signed_up: FlaskClient, app: Flask) -> None:
    sign_in(signed_up)
    captured = signed_up.get_cookie("session").value
    sign_out(signed_up)
    thief = app.test_client()
    thief.set_cookie("session", captured)
    response = thief.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_replayed_remember_cookie_is_dead_after_sign_out(
    signed_up: FlaskClient, app: Flask
) -> None:
    sign_in(signed_up, remember=True)
    captured = signed_up.get_cookie("remember").value
    sign_out(signed_up)
    thief = app.test_client()
    thief.set_cookie("remember", captured)
    assert thief.get("/account").status_code == 302
    assert "You are not signed in." in thief.get("/").text


def test_signing_in_again_ends_the_previous_sign_in(signed_up: FlaskClient, app: Flask) -> None:
    sign_in(signed_up, remember=True)
    sign_in(signed_up)  # e.g. from a second tab, without remember
    with app.app_context():
        rows = db.session.scalars(select(SignIn).order_by(SignIn.id)).all()
    assert [row.revoked_at is None for row in rows] == [False, False, True]
    # And the old remember cookie is gone, so it cannot bring the old sign-in back.
    assert signed_up.get_cookie("remember") is None


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_sign_out_requires_post(signed_up: FlaskClient, app: Flask, method: str) -> None:
    """A link or an image on another site sends a GET: it must sign nobody out."""
    sign_in(signed_up, remember=True)
    token = session_user(signed_up)
    response = signed_up.open("/logout", method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    if method == "GET":
        assert "does not accept that kind of request" in response.text
    assert set_cookie(response, "remember") is None  # not deleted
    assert session_user(signed_up) == token
    with app.app_context():
        assert db.session.scalars(SignIn.live()).one().session_token == token
    assert signed_up.get("/account").status_code == 200


def test_header_offers_sign_out_on_every_page_while_signed_in(client: FlaskClient) -> None:
    register(client)
    for path in ("/", "/account", "/cookies/", "/no-such-page"):
        page = client.get(path).text
        assert ">Sign out</button>" in page, path
        assert "Signed in as <strong>alice</strong>" in page, path


def recorded_statements(app: Flask, client: FlaskClient, path: str) -> tuple[int, list[str]]:
    """GET ``path``: its status and every SQL statement the request ran."""
    with sql_statements(app) as statements:
        response = client.get(path)
    response.close()  # a static file's response holds the file open until closed
    assert "Set-Cookie" not in response.headers, response.headers.getlist("Set-Cookie")
    return response.status_code, statements


@pytest.mark.parametrize(
    ("path", "queries"),
    # /account adds one query of its own: the list of sign-ins.
    [("/", 1), ("/cookies/", 1), ("/account", 2)],
)
def test_signed_in_page_costs_one_query_no_write_and_no_cookie(
    client: FlaskClient, app: Flask, path: str, queries: int
) -> None:
    register(client)
    client.get(path)
    status, statements = recorded_statements(app, client, path)
    assert status == 200
    assert len(statements) == queries, statements
    assert all(s.startswith("SELECT") for s in statements)
    # The sign-in and its user in one statement, found by the session's token.
    assert "FROM sign_ins JOIN users ON users.id = sign_ins.user_id" in statements[0]
    assert "WHERE sign_ins.revoked_at IS NULL" in statements[0]
    assert re.search(r"AND sign_ins\.session_token = \S+$", statements[0])  # ? or %(...)s


@pytest.mark.parametrize("path", ["/", "/static/style.css"])
def test_a_visitor_page_costs_no_query_and_no_cookie(
    client: FlaskClient, app: Flask, path: str
) -> None:
    assert recorded_statements(app, client, path) == (200, [])


def test_last_seen_is_written_at_most_once_a_minute(client: FlaskClient, app: Flask) -> None:
    register(client)
    with app.app_context():
        row = db.session.scalar(select(SignIn))
        row.last_seen_at = row.last_seen_at - timedelta(minutes=2)
        db.session.commit()
        stale = row.last_seen_at
    client.get("/account")
    with app.app_context():
        assert db.session.scalar(select(SignIn.last_seen_at)) > stale + timedelta(minutes=1)


def test_a_signed_in_browser_cannot_sign_up_into_another_account(
    client: FlaskClient, app: Flask
) -> None:
    register(client)
    token = csrf_token(client)
    for response in (
        client.get("/register"),
        client.post(
            "/register",
            data={
                "username": "bob",
                "password": PASSWORD,
                "confirm": PASSWORD,
                "csrf_token": token,
            },
        ),
    ):
        assert response.headers["Location"] == "/account"
    assert (
        "You are signed in as alice. Sign out first to create another account."
        in client.get("/account").text
    )
    with app.app_context():
        assert db.session.scalars(select(User.username)).all() == ["alice"]
