"""The Chromium the tests drive is launched as e2e.browser means it to be."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext

from .browser import UNUSED_BROWSER_UI

PROC = Path("/proc")
DISABLE = "--disable-features="


def launched_chromium_command_lines() -> list[list[str]]:
    """The command line of each Chromium browser process this test run started (Linux)."""
    parents = {}
    for stat in PROC.glob("[0-9]*/stat"):
        try:
            # The process name, in parentheses, may hold spaces: the fields after it are fixed.
            parents[int(stat.parent.name)] = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue

    def ours(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == os.getpid():
                return True
        return False

    found = []
    for pid in filter(ours, parents):
        try:
            command = (PROC / str(pid) / "cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        # The browser process itself: Playwright talks to it over a pipe; helpers have a --type.
        helper = any(arg.startswith("--type=") for arg in command)
        if "--remote-debugging-pipe" in command and not helper:
            found.append(command)
    return found


@pytest.fixture
def chromium_command_lines(browser: Browser, browser_name: str) -> list[list[str]]:
    """How the session's Chromium was started, where its flags apply and /proc shows them."""
    if browser_name != "chromium":
        pytest.skip("only Chromium is given e2e.browser's flags")
    if not PROC.is_dir():
        pytest.skip("a process's command line is read from /proc")
    found = launched_chromium_command_lines()
    assert found, "the browser this run launched was not found under /proc"
    return found


def test_chromium_still_gets_every_feature_playwright_disables(
    chromium_command_lines: list[list[str]],
) -> None:
    """Chromium keeps only the last --disable-features, and ours comes after Playwright's:
    it must repeat all of Playwright's, or an upgrade that adds one would quietly undo it."""
    for command in chromium_command_lines:
        given = [arg.split("=", 1)[1].split(",") for arg in command if arg.startswith(DISABLE)]
        kept = set(given[-1])
        dropped = {feature for features in given for feature in features} - kept
        assert not dropped, f"e2e/browser.py: add {sorted(dropped)} to PLAYWRIGHT_DISABLED_FEATURES"
        assert set(UNUSED_BROWSER_UI) <= kept


def test_chromium_windows_preload_no_browser_ui_pages(
    chromium_command_lines: list[list[str]], browser: Browser, context: BrowserContext
) -> None:
    """The suggestion popups stay unbuilt: had a Chromium update renamed their features,
    every window would pay for a renderer again (see UNUSED_BROWSER_UI)."""
    context.new_page()
    targets = browser.new_browser_cdp_session().send("Target.getTargets")["targetInfos"]
    preloaded = [target["url"] for target in targets if target["type"] == "browser_ui"]
    assert preloaded == [], "e2e/browser.py: UNUSED_BROWSER_UI no longer turns these off"
