"""How the site puts durations and browsers into words."""

from datetime import timedelta

import pytest

from loginflow.wording import browser_name, duration


@pytest.mark.parametrize(
    ("span", "said"),
    [
        (timedelta(days=14), "14 days"),
        (timedelta(days=365), "1 year"),
        (timedelta(seconds=120), "2 minutes"),
        (timedelta(seconds=90), "90 seconds"),
        (timedelta(seconds=1), "1 second"),
    ],
)
def test_durations_read_as_a_person_says_them(span: timedelta, said: str) -> None:
    assert duration(span) == said


def test_browser_names_come_from_the_user_agent() -> None:
    assert browser_name("") == "Unknown browser"
    assert browser_name("curl/8.5.0") == "curl"
    assert (
        browser_name(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0"
        )
        == "Edge on Windows"
    )
    assert browser_name("Mozilla/5.0 (" * 40) == "Unknown browser"
