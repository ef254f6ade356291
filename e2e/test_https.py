"""HTTPS end to end: the site as ``make serve`` runs it in production, gunicorn speaking TLS
itself, and a Chromium that trusts its certificate.

The certificate comes from a certificate authority of this module's own (trustme). Chromium
is told to accept that one key (``--ignore-certificate-errors-spki-list`` with the sha256 of
the certificate's public key) and nothing else: a blanket ``ignore_https_errors`` would also
let through a wrong host name or another certificate, and adding the authority to the
system's trust store would outlive the run.
"""

import base64
import hashlib
import re
import secrets
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trustme

# trustme's own dependency: it makes the certificates.
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.sync_api import Browser, BrowserContext, Page, Response, expect

from .flows import (
    Account,
    NewContext,
    attributes,
    cookie,
    expect_signed_in_as,
    expect_signed_out,
    expires_in,
    fact,
    new_username,
    register,
    restart_browser,
    set_cookie_headers,
    sign_in_by_script,
    sign_out,
)
from .server import SHARED_ADDRESS_LIMITS, ServerDidNotStart, Site, flask_settings, gunicorns

pytestmark = pytest.mark.own_site

# Production's names and duration, as the README's cookie table promises them.
SESSION, REMEMBER = "__Host-session", "__Host-remember"
REMEMBER_ME_DURATION = 14 * 24 * 60 * 60  # seconds
ONE_YEAR = 365 * 24 * 60 * 60  # seconds
HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def certificate(authority: trustme.CA) -> trustme.LeafCert:
    return authority.issue_cert(HOST)


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    authority: trustme.CA,
    certificate: trustme.LeafCert,
) -> Iterator[Site]:
    """gunicorn with ProductionConfig over HTTPS, its database an SQLite file of its own."""
    folder = tmp_path_factory.mktemp("https")
    chain, key = folder / "chain.pem", folder / "key.pem"
    for number, pem in enumerate(certificate.cert_chain_pems):
        pem.write_to_path(str(chain), append=number > 0)
    certificate.private_key_pem.write_to_path(str(key))
    settings = SHARED_ADDRESS_LIMITS | {
        "SECRET_KEY": secrets.token_hex(32),
        "TRUSTED_HOSTS": [HOST],
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'db.sqlite'}",
    }
    environment = {
        "LOGINFLOW_CONFIG": "ProductionConfig",
        "LOGINFLOW_TLS_CERT": str(chain),
        "LOGINFLOW_TLS_KEY": str(key),
        **flask_settings(settings),
    }
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    try:
        with gunicorns(folder, [environment], tls=trusting) as [server]:
            yield server
    except ServerDidNotStart as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="module")
def browser(
    launch_browser: Callable[..., Browser],
    browser_type_launch_args: dict[str, Any],
    browser_name: str,
    certificate: trustme.LeafCert,
) -> Iterator[Browser]:
    """This module's Chromium: e2e.browser's, trusting the server's key and no other."""
    if browser_name != "chromium":
        pytest.skip("the certificate is trusted through a Chromium switch")
    trusted = f"--ignore-certificate-errors-spki-list={public_key_pin(certificate)}"
    launched = launch_browser(args=[*browser_type_launch_args.get("args", []), trusted])
    yield launched
    launched.close()


def public_key_pin(certificate: trustme.LeafCert) -> str:
    """base64(sha256(SubjectPublicKeyInfo)) of the certificate, as Chromium's switch takes it."""
    leaf = x509.load_pem_x509_certificate(certificate.cert_chain_pems[0].bytes())
    spki = leaf.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def hsts_max_age(response: Response) -> int:
    header = response.header_value("strict-transport-security")
    assert header is not None, f"no Strict-Transport-Security on {response.url}"
    found = re.fullmatch(r"max-age=(\d+)(;.*)?", header)
    assert found, header
    return int(found.group(1))


def test_the_whole_flow_over_https_keeps_host_only_secure_cookies(
    page: Page, context: BrowserContext, new_context: NewContext, site: Site
) -> None:
    """Register, sign in with Remember me, restart the browser, sign out: every page comes
    over HTTPS with HSTS, the cookies are Secure ``__Host-`` ones, and at the end the
    browser holds neither."""
    assert site.url.startswith("https://")
    account = Account(new_username())
    register(page, account)
    expect(page).to_have_url(f"{site.url}/account")
    sign_out(page)

    signed_in = sign_in_by_script(page, account, remember=True)

    assert hsts_max_age(signed_in) >= ONE_YEAR
    [session_header] = set_cookie_headers(signed_in, SESSION)
    [remember_header] = set_cookie_headers(signed_in, REMEMBER)
    for header in (session_header, remember_header):
        sent = attributes(header)
        expected = {"secure": "", "httponly": "", "path": "/", "samesite": "Lax"}
        assert expected.items() <= sent.items(), header
        assert "domain" not in sent, header  # __Host-: this host only
    assert attributes(remember_header)["max-age"] == str(REMEMBER_ME_DURATION)
    assert "max-age" not in attributes(session_header)
    kept = {c["name"]: c for c in context.cookies()}
    assert set(kept) == {SESSION, REMEMBER}
    for kept_cookie in kept.values():
        assert (kept_cookie["secure"], kept_cookie["httpOnly"]) == (True, True)
        assert (kept_cookie["domain"], kept_cookie["path"]) == (HOST, "/")
        assert kept_cookie["sameSite"] == "Lax"
    assert kept[SESSION]["expires"] == -1, "the session cookie ends with the browser"
    assert expires_in(kept[REMEMBER]) == pytest.approx(REMEMBER_ME_DURATION, abs=60)
    expect(page.locator("header")).to_contain_text(f"Signed in as {account.username}")

    restarted = restart_browser(context, new_context)
    assert [c["name"] for c in restarted.cookies()] == [REMEMBER]
    page = restarted.new_page()
    expect_signed_in_as(page, account)
    expect(fact(page, "This session began")).to_contain_text("restored from the remember cookie")
    assert cookie(restarted, SESSION) is not None
    replaced = cookie(restarted, REMEMBER)
    assert replaced is not None
    assert replaced["value"] != kept[REMEMBER]["value"], "the validator was replaced"

    signed_out = sign_out(page)

    assert signed_out.status == 302
    assert hsts_max_age(signed_out) >= ONE_YEAR
    expect(page).to_have_url(f"{site.url}/")
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    assert restarted.cookies() == []
    expect_signed_out(page)
