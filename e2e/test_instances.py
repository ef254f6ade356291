"""Several instances: two gunicorn servers, A and B, on one PostgreSQL database, one Redis
and one secret key, as the README's "Deploying" describes. Whatever one of them decides
about a sign-in, the other knows at the next request.

A browser keeps cookies per host, not per port, so one browser sends the same cookies to
A (127.0.0.1:<a>) and to B (127.0.0.1:<b>), as it would to two instances behind one name.

The database is made for this module and dropped after it, and the throttle's counters
live under a Redis key prefix of its own, deleted after it (tests/servers.py). Where
PostgreSQL or Redis does not answer, every test here is skipped with one line saying what
to start.
"""

import hashlib
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import redis
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text

from loginflow.auth import SIGN_IN_FAILED
from tests import servers

from .flows import (
    REMEMBER,
    SESSION,
    Account,
    HttpClient,
    NewContext,
    at_once,
    cookie,
    expect_signed_in_as,
    expect_signed_out,
    fact,
    restart_browser,
    session_data,
    sign_in_by_script,
    signed_in_cookies,
    submit_and_follow,
    submit_by_script,
)
from .server import (
    PROJECT_ROOT,
    SHARED_ADDRESS_LIMITS,
    ServerDidNotStart,
    Site,
    flask_settings,
    gunicorns,
    server_environment,
)

pytestmark = pytest.mark.own_site

# Checked as the module is collected, so that a missing server is one line in the summary
# rather than one for each test.
if (missing := servers.missing_server()) is not None:
    pytest.skip(missing, allow_module_level=True)

# Wrong passwords an account is allowed a minute, counted over both instances together.
WRONG_PASSWORDS_ALLOWED = 3
CLIENTS = 20  # tabs restored at once, half of them from each instance
RESTARTS = 3


@pytest.fixture(scope="module")
def database() -> Iterator[Engine]:
    """A PostgreSQL database of this module's own, dropped at the end."""
    with servers.run_database() as engine:
        yield engine


@pytest.fixture(scope="module")
def key_prefix(database: Engine) -> Iterator[str]:
    """A Redis key prefix for the throttle's counters; its keys are deleted at the end."""
    with servers.own_key_prefix() as prefix:
        yield prefix


@pytest.fixture(scope="module")
def instances(
    tmp_path_factory: pytest.TempPathFactory, database: Engine, key_prefix: str
) -> Iterator[list[Site]]:
    """A and B, each one gunicorn worker, sharing the database, Redis and the secret key."""
    url = database.url.render_as_string(hide_password=False)
    # TestingConfig, served anyway: its one-iteration password hash keeps sign-ins cheap,
    # and its cookies, without Secure, are kept by a browser on http://127.0.0.1. What is
    # shared between instances is the subject here; production's cookies and HTTPS are
    # test_https.py's. Its SECRET_KEY is drawn anew in every process, so the one key the
    # instances share is given, as production must.
    environment = {
        "LOGINFLOW_CONFIG": "TestingConfig",
        "LOGINFLOW_SERVE_ANY_CONFIG": "1",
        "DATABASE_URL": url,
        **flask_settings(
            SHARED_ADDRESS_LIMITS
            | {
                "SECRET_KEY": secrets.token_hex(32),
                "RATELIMIT_STORAGE_URI": servers.REDIS_URL,
                "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": key_prefix},
                "THROTTLE_SIGN_IN_PER_USERNAME": f"{WRONG_PASSWORDS_ALLOWED} per minute",
            }
        ),
    }
    folder = tmp_path_factory.mktemp("instances")
    # Started together on an empty database, each would migrate it at once, and one fail.
    upgrade_schema(environment, folder)
    try:
        with gunicorns(folder, [environment, environment]) as started:
            yield started
    except ServerDidNotStart as error:
        pytest.fail(str(error), pytrace=False)


def upgrade_schema(environment: dict[str, str], folder: Path) -> None:
    """``flask db upgrade``, once, before the instances start, as ``make serve`` does."""
    upgraded = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "loginflow", "db", "upgrade"],
        cwd=PROJECT_ROOT,
        env=server_environment(environment | {"LOGINFLOW_INSTANCE_PATH": str(folder)}),
        capture_output=True,
        text=True,
        check=False,
    )
    if upgraded.returncode != 0:
        pytest.fail(f"flask db upgrade failed:\n{upgraded.stdout}{upgraded.stderr}", pytrace=False)


@pytest.fixture
def a(instances: list[Site]) -> Site:
    return instances[0]


@pytest.fixture
def b(instances: list[Site]) -> Site:
    return instances[1]


@pytest.fixture
def site(a: Site) -> Site:
    """Pages opened by path, and accounts made by the ``account`` fixture, are A's."""
    return a


def digest(validator: str) -> str:
    """What the database keeps of a remember cookie's validator."""
    return hashlib.sha256(validator.encode()).hexdigest()


def restores(site: Site, account: Account) -> int:
    """How many times ``site`` logged a restore from a remember cookie for ``account``."""
    return site.log().count(f"event=restore user={account.username} ")


def test_signed_in_on_one_instance_is_signed_in_on_the_other(
    page: Page, a: Site, b: Site, account: Account
) -> None:
    """A takes the password; B, asked next, finds the same sign-in in the database."""
    sign_in_by_script(page, account)
    expect(page).to_have_url(f"{a.url}/account")

    page.goto(f"{b.url}/account")

    expect(page).to_have_url(f"{b.url}/account")
    expect(page.locator("header")).to_contain_text(f"Signed in as {account.username}")
    expect(fact(page, "This session began")).to_contain_text("with your password")
    sign_ins = page.get_by_role("region", name="Where you're signed in").locator("tbody tr")
    expect(sign_ins).to_have_count(1)
    expect(sign_ins.first).to_contain_text("This browser")


def test_a_sign_in_ended_from_one_instance_is_signed_out_on_the_other(
    page: Page, new_context: NewContext, a: Site, b: Site, account: Account, database: Engine
) -> None:
    """A phone signed in on B ends the sign-in of a laptop that uses A: the laptop's next
    page on A is the sign-in page, and the database holds the sign-in as revoked."""
    sign_in_by_script(page, account)  # the laptop, on A
    laptop_session = cookie(page.context, SESSION)
    assert laptop_session is not None
    phone = new_context().new_page()
    sign_in_by_script(phone, account, path=f"{b.url}/login")  # fresh: the password was typed
    expect(phone).to_have_url(f"{b.url}/account")
    # The laptop's row is the one with an End button: this browser's has none.
    end = phone.get_by_role("region", name="Where you're signed in").get_by_role(
        "button", name=re.compile(r"^End ")
    )
    action = end.locator("xpath=ancestor::form").get_attribute("action")
    assert action is not None

    submit_and_follow(phone, end, action)

    expect(phone.get_by_role("status")).to_contain_text("is signed out.")
    with database.connect() as connection:
        revoked_at = connection.scalar(
            text("SELECT revoked_at FROM sign_ins WHERE session_token = :token"),
            {"token": session_data(laptop_session["value"])["_user_id"]},
        )
    assert revoked_at is not None, "the laptop's sign-in is revoked in the shared database"
    expect_signed_out(page)
    expect(page).to_have_url(f"{a.url}/login?next=/account")
    expect_signed_in_as(phone, account)


def test_a_remember_cookie_issued_by_one_instance_restores_on_the_other(
    page: Page, new_context: NewContext, a: Site, b: Site, account: Account
) -> None:
    """Signed in with Remember me on A; after a browser restart B restores the sign-in
    and replaces the validator."""
    sign_in_by_script(page, account, remember=True)
    issued = cookie(page.context, REMEMBER)
    assert issued is not None

    restarted = restart_browser(page.context, new_context).new_page()
    restarted.goto(f"{b.url}/account")

    expect(restarted).to_have_url(f"{b.url}/account")
    expect(restarted.locator("header")).to_contain_text(f"Signed in as {account.username}")
    expect(fact(restarted, "This session began")).to_contain_text(
        "restored from the remember cookie"
    )
    replaced = cookie(restarted.context, REMEMBER)
    assert replaced is not None
    assert replaced["value"] != issued["value"]
    assert (restores(a, account), restores(b, account)) == (0, 1)


def test_wrong_passwords_spread_over_both_instances_are_counted_once(
    page: Page, a: Site, b: Site, account: Account, key_prefix: str
) -> None:
    """Wrong passwords typed on A, B, A use up the account's allowance on both: the next
    attempt, on B and with the right password, gets the 429 page."""
    wrong: dict[str, str | bool] = {
        "username": account.username,
        "password": "not the password at all",
        "remember": False,
    }
    for attempt in range(WRONG_PASSWORDS_ALLOWED):
        instance = (a, b)[attempt % 2]
        page.goto(f"{instance.url}/login", wait_until="domcontentloaded")
        refused = submit_by_script(page, wrong, "/login")
        assert refused.status == 422
        expect(page.get_by_role("alert")).to_have_text(SIGN_IN_FAILED)

    page.goto(f"{b.url}/login", wait_until="domcontentloaded")
    throttled = submit_by_script(page, wrong | {"password": account.password}, "/login")

    assert throttled.status == 429
    retry_after = throttled.header_value("retry-after")
    assert retry_after is not None and 0 < int(retry_after) <= 60
    expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
    expect(page.locator("header")).not_to_contain_text("Signed in as")
    # One count in Redis, under this run's prefix, for the account's username.
    client = redis.Redis.from_url(servers.REDIS_URL)
    try:
        counts = [
            client.get(key)
            for key in client.scan_iter(match=f"{key_prefix}*")
            if account.username.encode() in key
        ]
    finally:
        client.close()
    assert counts == [str(WRONG_PASSWORDS_ALLOWED).encode()]


def test_twenty_restores_at_once_over_both_instances_rotate_the_cookie_once(
    a: Site, b: Site, account: Account, database: Engine
) -> None:
    """Tabs restored in parallel with one remember cookie, half on A and half on B: all
    signed in, one new validator in the database, and no stolen copy reported."""
    value = signed_in_cookies(a.url, account, remember=True)[REMEMBER]
    selector = value.partition(":")[0]
    # Each round, the requests that lose the compare-and-set (on either instance) get in by
    # the grace period. Whether two meet between reading and replacing the validator is up
    # to the servers: a few rounds make a mishandled meeting all but certain to show.
    for _ in range(RESTARTS):
        original = value
        clients = [HttpClient(i.url, {REMEMBER: original}) for i in [a, b] * (CLIENTS // 2)]
        answers = at_once(clients, lambda client: partial(client.get, "/account"))

        statuses = [answer.status for answer in answers]
        assert statuses == [200] * CLIENTS, f"every tab is signed in: {statuses}"
        assert all(f"Signed in as <strong>{account.username}<" in answer.body for answer in answers)
        rotations = [header for answer in answers for header in answer.set_cookie_headers(REMEMBER)]
        assert len(rotations) == 1, rotations
        [value] = {client.cookies[REMEMBER] for client in clients} - {original}
        with database.connect() as connection:
            stored = connection.execute(
                text(
                    "SELECT remember_validator_hash, remember_previous_validator_hash"
                    " FROM sign_ins WHERE remember_selector = :selector"
                ),
                {"selector": selector},
            ).one()
        assert tuple(stored) == (
            digest(value.partition(":")[2]),
            digest(original.partition(":")[2]),
        ), "one rotation: the new validator, and the one before it"

    assert (restores(a, account), restores(b, account)) == (CLIENTS // 2 * RESTARTS,) * 2
    for instance in (a, b):
        assert f"event=remember_theft user={account.username} " not in instance.log()
