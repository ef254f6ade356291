"""Rotating the secret key under a signed-in browser, as the README's "Deploying" says:
the new key in FLASK_SECRET_KEY, the old one in FLASK_SECRET_KEY_FALLBACKS, restart; later,
the old key dropped.

Each test has a gunicorn server of its own, restarted on the same port with the same
database file, so the browser keeps its pages and cookies across the restart.
"""

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from playwright.sync_api import BrowserContext, Page, expect

from .flows import (
    CSRF_FAILED,
    REMEMBER,
    SESSION,
    Account,
    HttpClient,
    cookie,
    expect_signed_in_as,
    expect_signed_out,
    fact,
    sign_in_by_script,
    sign_out,
)
from .server import (
    SHARED_ADDRESS_LIMITS,
    ServerDidNotStart,
    Site,
    flask_settings,
    gunicorns,
    restart,
)

pytestmark = pytest.mark.own_site

OLD_KEY = secrets.token_hex(32)
NEW_KEY = secrets.token_hex(32)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """gunicorn signing with OLD_KEY, its database an SQLite file that outlives restarts."""
    # TestingConfig, served anyway: a cheap password hash, and cookies a browser keeps on
    # http://127.0.0.1. The key is given, as TestingConfig otherwise draws one per process.
    environment = {
        "LOGINFLOW_CONFIG": "TestingConfig",
        "LOGINFLOW_SERVE_ANY_CONFIG": "1",
        **flask_settings(
            SHARED_ADDRESS_LIMITS
            | {
                "SECRET_KEY": OLD_KEY,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}",
            }
        ),
    }
    try:
        with gunicorns(tmp_path, [environment]) as [server]:
            yield server
    except ServerDidNotStart as error:
        pytest.fail(str(error), pytrace=False)


def signed_with(key: str, session_cookie: str) -> bool:
    """Whether Flask, knowing only ``key``, would take ``session_cookie`` as signed."""
    app = Flask(__name__)
    app.secret_key = key
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    try:
        serializer.loads(session_cookie)
    except BadSignature:
        return False
    return True


def test_session_signed_with_the_old_key_lives_on_but_forms_opened_before_expire(
    page: Page, context: BrowserContext, site: Site, account: Account
) -> None:
    """After the rotation the old key is a fallback: the browser's session cookie, signed
    with it, still signs in. A form opened before the restart carries a CSRF token signed
    with the old key, which Flask-WTF no longer takes: "This form expired", once; a fresh
    copy of the form works."""
    sign_in_by_script(page, account)  # the account page stays open through the restart
    before = cookie(context, SESSION)
    assert before is not None
    assert signed_with(OLD_KEY, before["value"])

    restart(site, flask_settings({"SECRET_KEY": NEW_KEY, "SECRET_KEY_FALLBACKS": [OLD_KEY]}))

    tab = context.new_page()
    expect_signed_in_as(tab, account)
    after = cookie(context, SESSION)
    assert after is not None
    assert after["value"] == before["value"], "taken as it was, through the fallback"
    assert not signed_with(NEW_KEY, after["value"])

    refused = sign_out(page)  # the Sign out form of the page opened before the restart

    assert refused.status == 400
    expect(page.get_by_role("heading", name="This form expired")).to_be_visible()
    expect(page.get_by_text(CSRF_FAILED)).to_be_visible()
    expect(page.locator("header")).to_contain_text(f"Signed in as {account.username}")
    page.get_by_role("link", name="Try again").click()
    expect(page).to_have_url(f"{site.url}/account")
    signed_out = sign_out(page)
    assert signed_out.status == 302
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    expect_signed_out(tab)


def test_remember_cookie_outlives_dropping_the_old_key(
    page: Page, context: BrowserContext, site: Site, account: Account
) -> None:
    """With the old key gone, no fallback, a session cookie signed with it is worthless;
    the remember cookie is checked against the database, not the key, and signs the
    browser straight back in with a session signed with the new key."""
    sign_in_by_script(page, account, remember=True)
    before = {c["name"]: c["value"] for c in context.cookies()}
    assert signed_with(OLD_KEY, before[SESSION])

    restart(site, flask_settings({"SECRET_KEY": NEW_KEY}))

    with HttpClient(site.url, {SESSION: before[SESSION]}) as replay:
        alone = replay.get("/account")
    assert (alone.status, alone.header("location")) == (302, "/login?next=/account")
    expect_signed_in_as(page, account)
    expect(fact(page, "This session began")).to_contain_text("restored from the remember cookie")
    after = {c["name"]: c["value"] for c in context.cookies()}
    assert signed_with(NEW_KEY, after[SESSION])
    assert after[REMEMBER] != before[REMEMBER], "the validator was replaced"
