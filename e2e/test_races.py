"""Races against the real server: the same request sent many times at the same instant."""

from functools import partial

from .flows import (
    REMEMBER,
    SESSION,
    Account,
    HttpClient,
    Request,
    at_once,
    new_username,
    registration,
    signed_in_cookies,
)
from .server import Site

CLIENTS = 20
RESTARTS = 3
USERNAME_TAKEN = "That username is taken."


def test_one_username_registered_twenty_times_at_once_makes_one_account(site: Site) -> None:
    """The unique index decides between simultaneous sign-ups: one account, every other
    attempt told the name is taken, and none of them an error page."""
    account = Account(new_username())

    def post_registration(client: HttpClient) -> Request:
        fields = {"csrf_token": client.csrf_token("/register"), **registration(account)}
        return partial(client.post, "/register", fields)

    answers = at_once([HttpClient(site.url) for _ in range(CLIENTS)], post_registration)

    statuses = sorted(answer.status for answer in answers)
    assert statuses == [302] + [422] * (CLIENTS - 1), statuses
    [created] = [answer for answer in answers if answer.status == 302]
    assert created.header("Location") == "/account"
    for refused in (answer for answer in answers if answer.status == 422):
        assert USERNAME_TAKEN in refused.body
    # The one account is the one registered: its password signs in.
    assert SESSION in signed_in_cookies(site.url, account)


def test_twenty_restores_at_once_with_one_remember_cookie_rotate_it_once(
    site: Site, account: Account
) -> None:
    """Tabs restored in parallel with the same remember cookie all come back signed in;
    the validator is replaced once, and no request is mistaken for a stolen copy."""
    # A browser restarted after signing in with Remember me holds only that cookie.
    cookie = signed_in_cookies(site.url, account, remember=True)[REMEMBER]
    # Whether two requests meet between reading and replacing the validator is up to the
    # server's threads: a few restarts make a mishandled meeting all but certain to show.
    for _ in range(RESTARTS):
        original = cookie
        clients = [HttpClient(site.url, {REMEMBER: original}) for _ in range(CLIENTS)]
        answers = at_once(clients, lambda client: partial(client.get, "/account"))

        statuses = [answer.status for answer in answers]
        assert statuses == [200] * CLIENTS, f"every tab is signed in: {statuses}"
        assert all(account.username in answer.body for answer in answers)
        rotations = [header for answer in answers for header in answer.set_cookie_headers(REMEMBER)]
        assert len(rotations) == 1, rotations
        [cookie] = {client.cookies[REMEMBER] for client in clients} - {original}

    # Within the grace period the old cookie still restores, and does not rotate again...
    with HttpClient(site.url, {REMEMBER: original}) as late_tab:
        late = late_tab.get("/account")
    assert late.status == 200
    assert late.set_cookie_headers(REMEMBER) == []
    # ...and the sign-in lives on: the new cookie restores (and is itself replaced).
    with HttpClient(site.url, {REMEMBER: cookie}) as next_restart:
        restored = next_restart.get("/account")
    assert restored.status == 200
    assert account.username in restored.body
    assert len(restored.set_cookie_headers(REMEMBER)) == 1
    assert f"event=remember_theft user={account.username} " not in site.log_path.read_text()
