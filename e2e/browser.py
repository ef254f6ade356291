"""Which Chromium the browser tests drive, and getting one onto this machine.

``python -m e2e.browser`` (the first step of ``make test``) makes sure there is one, in
this order of preference:

1. the executable named by ``LOGINFLOW_CHROMIUM``, when set (nothing else is tried);
2. Playwright's own Chromium, installed with ``playwright install chromium`` if missing;
3. a system Chromium (``/usr/bin/chromium``), installed from Debian's ``chromium``
   package with apt-get when missing and running as root.

With none to be had it prints one line saying what to install and exits non-zero.
The conftest asks ``choose()`` the same question without installing anything.
"""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ENV_VAR = "LOGINFLOW_CHROMIUM"
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")

# A download that has not finished by then is abandoned for the system Chromium.
PLAYWRIGHT_INSTALL_TIMEOUT = 180  # seconds
# Per connection attempt, so a network that drops packets fails fast instead of hanging.
PLAYWRIGHT_CONNECTION_TIMEOUT = "5000"  # milliseconds

# Nothing but the site under test should use the network: no update checks, sync,
# component downloads or first-run pages.
QUIET_FLAGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-default-apps",
)

# Browser UI that Chromium builds as web pages and preloads into every window, with a
# renderer of its own, though no test ever opens it (the address bar's suggestion popups).
# Without it the browser suite takes about a fifth less time.
UNUSED_BROWSER_UI = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup")
# The features Playwright (1.65) disables itself. Chromium keeps only the last
# --disable-features it is given, and Playwright's comes first, so ours must repeat them
# all; test_browser.py fails if a Playwright upgrade changes its list.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)

HOW_TO_GET_ONE = (
    "No Chromium for the browser tests: install Debian's chromium package "
    "(apt-get install chromium) or Playwright's (.venv/bin/python -m playwright install "
    f"chromium), or set {ENV_VAR} to a Chromium executable."
)


class NoChromium(RuntimeError):
    """No usable Chromium; the message is one line saying what to do."""


def launch_flags() -> list[str]:
    """Chromium's command-line flags for the tests."""
    flags = list(QUIET_FLAGS)
    flags.append("--disable-features=" + ",".join(PLAYWRIGHT_DISABLED_FEATURES + UNUSED_BROWSER_UI))
    if _is_root():
        # Chromium refuses to start its sandbox as root.
        flags.append("--no-sandbox")
    return flags


def choose(playwright_executable: str) -> Path | None:
    """The Chromium to launch; None means Playwright's own, at ``playwright_executable``."""
    forced = _forced()
    if forced is not None:
        return forced
    if Path(playwright_executable).is_file():
        return None
    system = _system_chromium()
    if system is None:
        raise NoChromium(HOW_TO_GET_ONE)
    return system


def provision() -> str:
    """Make sure a Chromium is there, installing one if need be; says which it is."""
    forced = _forced()
    if forced is not None:
        return f"{forced} (from {ENV_VAR})"
    own = _playwright_executable()
    if own.is_file() or (_install_playwright_chromium() and own.is_file()):
        return f"Playwright's Chromium at {own}"
    system = _system_chromium()
    if system is None:
        _install_system_chromium()
        system = _system_chromium()
        if system is None:
            raise NoChromium(HOW_TO_GET_ONE)
    return f"the system Chromium at {system}"


def _forced() -> Path | None:
    value = os.environ.get(ENV_VAR)
    if not value:
        return None
    path = Path(value)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise NoChromium(
            f"{ENV_VAR}={value} is not an executable file: "
            "point it at a Chromium executable, or unset it."
        )
    return path


def _system_chromium() -> Path | None:
    for candidate in (shutil.which("chromium"), SYSTEM_CHROMIUM):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def _playwright_executable() -> Path:
    with sync_playwright() as playwright:
        return Path(playwright.chromium.executable_path)


def _install_playwright_chromium() -> bool:
    """Try Playwright's download once, quietly and for a bounded time; True if it worked."""
    env = os.environ | {
        "PLAYWRIGHT_DOWNLOAD_CONNECTION_TIMEOUT": os.environ.get(
            "PLAYWRIGHT_DOWNLOAD_CONNECTION_TIMEOUT", PLAYWRIGHT_CONNECTION_TIMEOUT
        )
    }
    command = [sys.executable, "-m", "playwright", "install", "chromium"]
    # A session of its own, so a timeout also ends the downloader it starts.
    with subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    ) as process:
        try:
            return process.wait(timeout=PLAYWRIGHT_INSTALL_TIMEOUT) == 0
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return False


def _install_system_chromium() -> None:
    """Install Debian's chromium package; only root can, and only where apt-get exists."""
    if not _is_root() or shutil.which("apt-get") is None:
        return
    print("e2e: installing Debian's chromium package with apt-get...", flush=True)
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
            raise NoChromium(f"{' '.join(command)} failed ({lines[-1]}). {HOW_TO_GET_ONE}")


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def main() -> int:
    try:
        found = provision()
    except NoChromium as error:
        print(f"e2e: {error}", file=sys.stderr)
        return 1
    print(f"e2e: browser tests use {found}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
