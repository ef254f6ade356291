"""A real loginflow server on 127.0.0.1, and Chromium launched to test it.

Tests share one server (TestingConfig, a fresh database) unless marked
``site_settings(KEY=value, ...)``: those get a server started with ``FLASK_<KEY>`` set
to each value, shared only with tests that ask for the same settings. A module marked
``own_site`` defines its own ``site`` fixture (gunicorn servers of its own, see server.py).
"""

import os
import shlex
from collections.abc import Generator, Iterator, Mapping
from typing import Any

import pytest
from playwright.sync_api import Playwright

from .browser import NoChromium, choose, launch_flags
from .flows import Account, create_account
from .server import ServerDidNotStart, Site, Sites

SMALL_WINDOW = {"width": 800, "height": 600}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "site_settings(**settings): run against a loginflow server started with "
        "FLASK_<KEY>=<value> for each setting",
    )
    config.addinivalue_line(
        "markers",
        "own_site: the module's own site fixture starts the servers it tests; the shared "
        "servers are not started for it",
    )
    # A failing test keeps a Playwright trace (a screenshot of every step) under
    # test-results/, unless --tracing says otherwise. Set here rather than in pyproject's
    # addopts, so that the unit tests run without the Playwright plugin. No --screenshot: it
    # photographs every page as its context closes, passing tests too, which cost about a
    # tenth of the browser suite's time.
    if not _given(config, "--tracing"):
        config.option.tracing = "retain-on-failure"


def _given(config: pytest.Config, option: str) -> bool:
    """Whether ``option`` is on the command line or in PYTEST_ADDOPTS."""
    args = [*shlex.split(os.environ.get("PYTEST_ADDOPTS", "")), *config.invocation_params.args]
    return any(arg == option or arg.startswith(f"{option}=") for arg in args)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, Any]:
    """A failing test's report ends with what its servers logged (requests, tracebacks)."""
    report = yield
    if report.when == "call" and report.failed:
        named: dict[int, list[str]] = {}
        servers = {}
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, Site):
                named.setdefault(id(value), []).append(name)
                servers[id(value)] = value
        for key, server in servers.items():
            title = "loginflow server output (last lines)"
            if named[key] != ["site"]:
                title += f": {', '.join(named[key])}"
            report.sections.append((title, server.log_tail()))
    return report


@pytest.fixture(scope="session")
def sites(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sites]:
    servers = Sites(tmp_path_factory.mktemp("sites"))
    # Every server this run's tests will ask for, started side by side rather than one at a
    # time in the middle of the run.
    servers.start_all(_settings_wanted(request.session.items))
    yield servers
    servers.stop_all()


def _settings_wanted(items: list[pytest.Item]) -> list[Mapping[str, Any]]:
    wanted = []
    for item in items:
        if item.get_closest_marker("own_site"):
            continue
        if {"site", "base_url"} & set(getattr(item, "fixturenames", ())):
            marker = item.get_closest_marker("site_settings")
            wanted.append(marker.kwargs if marker else {})
    return wanted


def _running(sites: Sites, settings: Mapping[str, Any]) -> Site:
    try:
        return sites.get(settings)
    except ServerDidNotStart as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def base_url(sites: Sites) -> str:
    """The shared server, with the settings every test gets unless it asks otherwise."""
    return _running(sites, {}).url


@pytest.fixture
def site(request: pytest.FixtureRequest, sites: Sites) -> Site:
    """The server this test talks to: the shared one, or one with its marked settings."""
    marker = request.node.get_closest_marker("site_settings")
    return _running(sites, marker.kwargs if marker else {})


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any], site: Site) -> dict[str, Any]:
    """Every browser context the test opens has the test's server as its base URL.

    And a small window, unless --device gives one: 800 pixels wide is still the desktop
    layout (the narrow one begins below 34rem), and every frame traced costs less to keep.
    """
    return {"viewport": SMALL_WINDOW, **browser_context_args, "base_url": site.url}


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], browser_name: str, playwright: Playwright
) -> dict[str, Any]:
    """Chromium as ``e2e.browser`` chooses it, kept off the network; other browsers as asked.

    Built on pytest-playwright's own, so --headed, --slowmo and --browser-channel still work.
    """
    if browser_name != "chromium":
        return browser_type_launch_args
    launch = {**browser_type_launch_args}
    launch["args"] = [*launch.get("args", []), *launch_flags()]
    if "channel" not in launch:
        try:
            executable = choose(playwright.chromium.executable_path)
        except NoChromium as error:
            pytest.fail(str(error), pytrace=False)
        if executable is not None:
            launch["executable_path"] = str(executable)
    return launch


@pytest.fixture
def account(site: Site) -> Account:
    """A new account on the test's server, signed in nowhere."""
    return create_account(site.url)
