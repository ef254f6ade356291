"""Choosing and checking settings: environment overrides, secret keys, durations."""

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import cli

from config import DevelopmentConfig, ProductionConfig, TestingConfig
from loginflow import create_app
from loginflow.settings import ConfigurationError, load_settings

from .actions import PASSWORD, attributes, log_in, register, set_cookie


def test_production_refuses_to_start_without_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError) as refused:
        create_app(ProductionConfig)
    message = str(refused.value)
    assert "FLASK_SECRET_KEY" in message
    assert "\n" not in message


def test_flask_command_prints_one_line_when_the_key_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.setenv("LOGINFLOW_CONFIG", "ProductionConfig")
    result = CliRunner().invoke(cli, ["--app", "loginflow", "routes"])
    assert result.exit_code == 1
    assert result.output == "Error: No secret key: set FLASK_SECRET_KEY to a long random string.\n"


def test_production_uses_secure_host_only_cookies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "k" * 64)
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", "sqlite://")
    monkeypatch.setenv("FLASK_TRUSTED_HOSTS", '["localhost"]')
    app = create_app(ProductionConfig)
    app.config["WTF_CSRF_ENABLED"] = False  # the cookies are under test here, not CSRF
    client = app.test_client()
    https = {"base_url": "https://localhost"}
    form = {"username": "alice", "password": PASSWORD, "confirm": PASSWORD}
    client.post("/register", data=form, **https)
    response = client.post("/login", data=form | {"remember": "y"}, **https)
    assert response.status_code == 302
    for name in ("__Host-session", "__Host-remember"):
        cookie = attributes(set_cookie(response, name))
        assert "secure" in cookie, name
        assert "httponly" in cookie, name
        assert cookie["path"] == "/", name
        assert "domain" not in cookie, name


def test_environment_sets_the_remember_duration_in_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLASK_REMEMBER_ME_DURATION", "120")
    client = create_app(TestingConfig).test_client()
    register(client, "bob")
    response = log_in(client, "bob", remember=True)
    assert attributes(set_cookie(response, "remember"))["max-age"] == "120"


@pytest.mark.parametrize("value", ['"two weeks"', "0", "-5", "true"])
def test_unusable_remember_duration_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("FLASK_REMEMBER_ME_DURATION", value)
    with pytest.raises(ConfigurationError, match="FLASK_REMEMBER_ME_DURATION"):
        create_app(TestingConfig)


def test_loginflow_config_names_the_settings_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGINFLOW_CONFIG", "TestingConfig")
    assert create_app().config["TESTING"] is True
    for name in ("NoSuchConfig", "timedelta", "secrets"):
        monkeypatch.setenv("LOGINFLOW_CONFIG", name)
        with pytest.raises(ConfigurationError, match=name):
            create_app()


def test_development_invents_a_private_key_once_and_keeps_it(tmp_path: Path) -> None:
    first, second = Flask("a", instance_path=str(tmp_path)), Flask("b", instance_path=str(tmp_path))
    load_settings(first, DevelopmentConfig)
    load_settings(second, DevelopmentConfig)
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_other_settings_use_werkzeugs_default_password_hash() -> None:
    assert DevelopmentConfig.PASSWORD_HASH_METHOD == ProductionConfig.PASSWORD_HASH_METHOD
    assert ProductionConfig.PASSWORD_HASH_METHOD == "scrypt"
