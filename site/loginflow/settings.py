"""Loading and checking the settings before anything else reads them."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask

import config as config_module


class ConfigurationError(click.ClickException):
    """A setting that makes it unsafe or impossible to start; the message says what to set.

    A ClickException, so ``flask run`` prints the one line instead of a traceback.
    """


def load_settings(app: Flask, config: type | None) -> None:
    """Apply the chosen settings class, then ``FLASK_*`` overrides, then check the result."""
    if config is None:
        name = os.environ.get("LOGINFLOW_CONFIG", "DevelopmentConfig")
        config = getattr(config_module, name, None)
        if not (isinstance(config, type) and issubclass(config, config_module.Config)):
            raise ConfigurationError(f"LOGINFLOW_CONFIG={name!r} names no class in config.py.")
    app.config.from_object(config)
    app.config.from_prefixed_env()

    for key in ("REMEMBER_ME_DURATION", "REMEMBER_ME_ROTATION_GRACE"):
        app.config[key] = _duration(app.config, key)
    if not app.config["SECRET_KEY"]:
        if not app.config["INVENT_SECRET_KEY"]:
            # A guessable or default key lets anyone forge a session: refuse to start instead.
            raise ConfigurationError("No secret key: set FLASK_SECRET_KEY to a long random string.")
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))


def _duration(settings: dict, key: str) -> timedelta:
    """Accept a timedelta or a number of seconds, so the environment can set durations."""
    value = settings[key]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = timedelta(seconds=value)
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ConfigurationError(f"FLASK_{key} must be a number of seconds, not {value!r}.")
    return value


def _instance_secret_key(instance: Path) -> str:
    """Invent a key once and keep it, readable by this user only, for development."""
    key_file = instance / "secret_key"
    if not key_file.exists():
        instance.mkdir(parents=True, exist_ok=True)
        # Created with mode 0600 from the start: the key is never world-readable, even briefly.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process (the reloader's) won the race
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return key_file.read_text().strip()
