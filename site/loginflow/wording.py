"""How the site puts things into words, shared by its pages and its messages."""

from datetime import timedelta


def duration(span: timedelta) -> str:
    """A duration in the largest whole unit, as a person would say it: "14 days"."""
    seconds = int(span.total_seconds())
    for unit, size in (("year", 365 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
