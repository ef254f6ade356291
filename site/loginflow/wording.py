"""How the site puts things into words, shared by its pages and its messages."""

from datetime import timedelta
from functools import lru_cache

from ua_parser import parse as parse_user_agent


def duration(span: timedelta) -> str:
    """A duration in the largest whole unit, as a person would say it: "14 days"."""
    seconds = int(span.total_seconds())
    for unit, size in (("year", 365 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


@lru_cache(maxsize=256)
def browser_name(user_agent: str) -> str:
    """A user agent in plain words, "Chrome on Linux", from ua-parser's maintained rules.

    Stored user agents are cut to 512 characters, and ua-parser's Rust matcher takes
    linear time, so a crafted one costs little.
    """
    result = parse_user_agent(user_agent)
    browser = result.user_agent.family if result.user_agent else None
    system = result.os.family if result.os else None
    browser = browser if browser and browser != "Other" else "Unknown browser"
    return f"{browser} on {system}" if system and system != "Other" else browser
