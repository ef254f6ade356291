"""make screenshots (e2e/screenshots.py): the same pages give the same bytes, every time."""

from pathlib import Path

from playwright.sync_api import Browser

from .screenshots import shoot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_screenshots_are_the_same_bytes_when_nothing_changed(
    browser: Browser, tmp_path: Path
) -> None:
    # The lab shows the clock (_fresh_at) and drawn tokens (the session token, the CSRF
    # token), shortened; the other page, the form's messages. The story stops at the lab.
    pages = ("register-errors", "lab")
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
        shoot(browser, folder, 390, "dark", pages)
    names = sorted(path.name for path in first.iterdir())
    assert names == ["lab-390-dark.png", "register-errors-390-dark.png"]
    for name in names:
        png = (first / name).read_bytes()
        assert png == (second / name).read_bytes(), f"{name} differs from one run to the next"
        assert png.startswith(PNG_SIGNATURE)
        # The width in the image header: the page is no wider than the window.
        assert int.from_bytes(png[16:20], "big") == 390
