"""The security log: one ``key=value`` line per security event, on ``loginflow.security``.

A line names the event, the account and the client address, and nothing else: never a
password, token, validator or cookie value. A username that matches no account is not
written either: it is often a password typed into the wrong box.
"""

import logging
from functools import partial
from typing import Any

from flask import Flask, has_request_context, request
from flask.logging import default_handler

from . import events

logger = logging.getLogger("loginflow.security")


def record(event: str, app: Flask, *, username: str | None, **_: Any) -> None:
    address = request.remote_addr if has_request_context() else None
    level = logging.WARNING if event in ("remember_theft", "throttled") else logging.INFO
    logger.log(level, "event=%s user=%s ip=%s", event, username or "-", address or "-")


def init_app(app: Flask) -> None:
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if not logger.hasHandlers():
        logger.addHandler(default_handler)  # Flask's own: the server's error stream
    for event in events.ALL:
        event.connect(partial(record, event.name), sender=app, weak=False)
