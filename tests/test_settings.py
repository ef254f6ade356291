"""Choosing and checking settings: environment overrides, secret keys, durations."""

import json
import stat
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask, url_for
from flask.cli import cli

from loginflow import create_app, passwords, settings
from loginflow.config import DevelopmentConfig, ProductionConfig, TestingConfig
from loginflow.settings import ConfigurationError, load_settings

from .actions import PASSWORD, attributes, register, set_cookie, sign_in
from .conftest import MakeApp


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


def test_production_uses_secure_host_only_cookies(
    monkeypatch: pytest.MonkeyPatch, make_app: MakeApp
) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "k" * 64)
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", "sqlite://")
    monkeypatch.setenv("FLASK_TRUSTED_HOSTS", '["localhost"]')
    app = make_app(ProductionConfig)
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
    make_app: MakeApp,
) -> None:
    monkeypatch.setenv("FLASK_REMEMBER_ME_DURATION", "120")
    client = make_app(TestingConfig).test_client()
    register(client, "bob")
    response = sign_in(client, "bob", remember=True)
    assert attributes(set_cookie(response, "remember"))["max-age"] == "120"


@pytest.mark.parametrize(
    "value",
    ['"two weeks"', "0", "-5", "true", "0.5", "1e12", "1e300", "NaN", "Infinity", "1e400", "[]"],
)
def test_unusable_remember_duration_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("FLASK_REMEMBER_ME_DURATION", value)
    with pytest.raises(ConfigurationError, match="FLASK_REMEMBER_ME_DURATION"):
        create_app(TestingConfig)


def test_loginflow_config_names_the_settings_class(
    monkeypatch: pytest.MonkeyPatch, make_app: MakeApp
) -> None:
    monkeypatch.setenv("LOGINFLOW_CONFIG", "TestingConfig")
    assert make_app(None).config["TESTING"] is True
    for name in ("NoSuchConfig", "timedelta", "secrets"):
        monkeypatch.setenv("LOGINFLOW_CONFIG", name)
        with pytest.raises(ConfigurationError, match=name):
            create_app()


def test_without_loginflow_config_the_site_runs_as_development(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("LOGINFLOW_CONFIG", raising=False)
    load_settings(Flask("a", instance_path=str(tmp_path)), None)
    assert (tmp_path / "secret_key").exists()  # development's invented key


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "REMEMBER_ME_DURATION",
            "59",
            "FLASK_REMEMBER_ME_DURATION must be a number of seconds from 60 to 34560000.",
        ),
        (
            "REMEMBER_ME_ROTATION_GRACE",
            "601",
            "FLASK_REMEMBER_ME_ROTATION_GRACE (how long a replaced remember validator, and a "
            "session token replaced at /reauth, are still accepted) must be a number of "
            "seconds from 1 to 600.",
        ),
        (
            "MAX_CONTENT_LENGTH",
            "1023",
            "FLASK_MAX_CONTENT_LENGTH must be a whole number from 1024 to 16777216.",
        ),
        (
            "MAX_CONTENT_LENGTH",
            "16777217",
            "FLASK_MAX_CONTENT_LENGTH must be a whole number from 1024 to 16777216.",
        ),
        ("RATELIMIT_ENABLED", '"no"', "FLASK_RATELIMIT_ENABLED must be true or false, not 'no'."),
        (
            "THROTTLE_REGISTER_PER_ADDRESS",
            "5",
            "FLASK_THROTTLE_REGISTER_PER_ADDRESS must be a limit such as '5 per minute'.",
        ),
        (
            "SIGN_IN_IDLE_TIMEOUT",
            "43201",
            "FLASK_SIGN_IN_IDLE_TIMEOUT must not be longer than FLASK_SIGN_IN_ABSOLUTE_TIMEOUT.",
        ),
        (
            "SESSION_COOKIE_SAMESITE",
            '"None"',
            "FLASK_SESSION_COOKIE_SAMESITE must be Lax or Strict.",
        ),
        (
            "SQLALCHEMY_ENGINE_OPTIONS",
            '"pool_size=5"',
            "FLASK_SQLALCHEMY_ENGINE_OPTIONS must be a JSON object.",
        ),
        (
            "SQLALCHEMY_DATABASE_URI",
            '"nosuch://user:secret@host/db"',
            "FLASK_SQLALCHEMY_DATABASE_URI or FLASK_SQLALCHEMY_ENGINE_OPTIONS cannot be used "
            "(NoSuchModuleError).",
        ),
        (
            "TRUSTED_HOSTS",
            "[]",
            "FLASK_TRUSTED_HOSTS must list the site's host names, e.g. '[\"example.com\"]'.",
        ),
        (
            "PASSWORD_HASH_METHOD",
            '"md5"',
            "FLASK_PASSWORD_HASH_METHOD must be scrypt (n from 2**14, at most 64 MB a hash) "
            "or pbkdf2 with 600000 to 10000000 iterations.",
        ),
        (
            "SECRET_KEY",
            "1" * 64,
            "FLASK_SECRET_KEY must be a string (quote it if it is all digits)",
        ),
        (
            "SECRET_KEY_FALLBACKS",
            '"' + "k" * 64 + '"',
            "FLASK_SECRET_KEY_FALLBACKS must be a list of old keys, e.g. '[\"<old key>\"]'",
        ),
    ],
)
def test_a_bad_value_is_told_with_what_would_do(
    monkeypatch: pytest.MonkeyPatch, key: str, value: str, message: str
) -> None:
    monkeypatch.setenv(f"FLASK_{key}", value)
    with pytest.raises(ConfigurationError) as refused:
        create_app(TestingConfig)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("MAX_CONTENT_LENGTH", "1024"),
        ("MAX_CONTENT_LENGTH", "16777216"),
        ("THROTTLE_SIGN_IN_PER_USERNAME", '"1 per minute"'),
        ("SESSION_COOKIE_SAMESITE", '"Strict"'),
        ("SECRET_KEY_FALLBACKS", '["' + "k" * 32 + '"]'),
    ],
)
def test_values_at_the_edge_of_what_is_allowed_are_accepted(
    monkeypatch: pytest.MonkeyPatch, key: str, value: str, make_app: MakeApp
) -> None:
    monkeypatch.setenv(f"FLASK_{key}", value)
    assert make_app(TestingConfig).config[key] == json.loads(value)


def test_development_invents_a_private_key_once_and_keeps_it(tmp_path: Path) -> None:
    first, second = Flask("a", instance_path=str(tmp_path)), Flask("b", instance_path=str(tmp_path))
    load_settings(first, DevelopmentConfig)
    load_settings(second, DevelopmentConfig)
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_development_makes_the_instance_folder_with_its_parents_for_the_key(
    tmp_path: Path,
) -> None:
    instance = tmp_path / "new" / "instance"
    load_settings(Flask("a", instance_path=str(instance)), DevelopmentConfig)
    assert len((instance / "secret_key").read_text()) == 64


def test_a_development_key_file_of_the_shortest_key_allowed_is_used(tmp_path: Path) -> None:
    _private_file(tmp_path / "secret_key", b"k" * 32)
    app = Flask("a", instance_path=str(tmp_path))
    load_settings(app, DevelopmentConfig)
    assert app.config["SECRET_KEY"] == "k" * 32


@pytest.mark.parametrize("config", [DevelopmentConfig, ProductionConfig])
def test_outside_tests_passwords_are_stored_as_scrypt_hashes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, config: type, make_app: MakeApp
) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "k" * 64)
    monkeypatch.setenv("FLASK_TRUSTED_HOSTS", '["localhost"]')
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", f'"sqlite:///{tmp_path}/db.sqlite"')
    app = make_app(config)
    with app.test_request_context():
        stored = passwords.hash_password(PASSWORD)
    # Werkzeug's scrypt: n=2**15, r=8, p=1, about 32 MB and tens of milliseconds a check.
    assert stored.startswith("scrypt:32768:8:1$")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("REMEMBER_ME_DURATION", "60"),
        ("REMEMBER_ME_DURATION", "34560000"),
        ("REMEMBER_ME_ROTATION_GRACE", "1"),
        ("REMEMBER_ME_ROTATION_GRACE", "600"),
        ("FRESH_FOR", "1"),
        ("FRESH_FOR", "86400"),
        ("SIGN_IN_IDLE_TIMEOUT", "1"),
        ("SIGN_IN_ABSOLUTE_TIMEOUT", "1800"),  # as long as the idle timeout
        ("SIGN_IN_ABSOLUTE_TIMEOUT", "34560000"),
    ],
)
def test_durations_at_their_bounds_are_accepted(
    monkeypatch: pytest.MonkeyPatch, key: str, value: str, make_app: MakeApp
) -> None:
    monkeypatch.setenv(f"FLASK_{key}", value)
    assert make_app(TestingConfig).config[key].total_seconds() == float(value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("REMEMBER_ME_DURATION", "59"),
        ("REMEMBER_ME_DURATION", "34560001"),  # 400 days, browsers' cap, and a second
        ("REMEMBER_ME_ROTATION_GRACE", "0.5"),
        ("REMEMBER_ME_ROTATION_GRACE", "601"),
        ("FRESH_FOR", "0.5"),
        ("FRESH_FOR", "86401"),
        ("SIGN_IN_IDLE_TIMEOUT", "0"),
        ("SIGN_IN_IDLE_TIMEOUT", "2592001"),
        ("SIGN_IN_IDLE_TIMEOUT", "43201"),  # longer than the absolute timeout
        ("SIGN_IN_ABSOLUTE_TIMEOUT", "1799"),  # shorter than the idle timeout
        ("SIGN_IN_ABSOLUTE_TIMEOUT", "34560001"),
        ("MAX_CONTENT_LENGTH", "0"),
        ("MAX_CONTENT_LENGTH", "1e9"),
        ("MAX_CONTENT_LENGTH", '"64KB"'),
        ("THROTTLE_SIGN_IN_PER_USERNAME", '"often"'),
        ("THROTTLE_REGISTER_PER_ADDRESS", "5"),
        ("RATELIMIT_ENABLED", '"no"'),
        ("TRUSTED_HOSTS", '"example.com"'),
        ("TRUSTED_HOSTS", "[]"),
        ("TRUSTED_PROXIES", "6"),
        ("TRUSTED_PROXIES", "-1"),
        ("TRUSTED_PROXIES", "true"),
        ("TRUSTED_HOSTS", '["example.com", ""]'),
        ("TRUSTED_HOSTS", '["example.com", 1]'),
        ("SECRET_KEY", '"short"'),
        ("SECRET_KEY", '"' + "k" * 31 + '"'),
        ("SECRET_KEY", "1" * 64),  # read as a number
        ("SECRET_KEY_FALLBACKS", '"' + "k" * 64 + '"'),  # Flask would try each character
        ("SECRET_KEY_FALLBACKS", '["dev"]'),
        ("SESSION_COOKIE_SAMESITE", '"None"'),
        ("SESSION_COOKIE_SAMESITE", '"bogus"'),
        ("SESSION_COOKIE_NAME", '"a b;c"'),
        ("REMEMBER_ME_COOKIE_NAME", '"session"'),
        ("REMEMBER_ME_COOKIE_NAME", '"theme"'),
        ("THROTTLE_SIGN_IN_PER_ADDRESS", '"0 per minute"'),
        ("RATELIMIT_STORAGE_URI", '"nosuch://here"'),
        ("RATELIMIT_STORAGE_OPTIONS", '"key_prefix=x"'),
        ("SQLALCHEMY_DATABASE_URI", '"nosuch://user:secret@host/db"'),
        ("SQLALCHEMY_ENGINE_OPTIONS", '{"pool_size": "many"}'),
    ],
)
def test_bad_value_stops_the_start_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, key: str, value: str
) -> None:
    monkeypatch.setenv(f"FLASK_{key}", value)
    with pytest.raises(ConfigurationError) as refused:
        create_app(TestingConfig)
    assert f"FLASK_{key}" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_longest_idle_timeout_is_accepted_with_an_absolute_one_as_long(
    monkeypatch: pytest.MonkeyPatch,
    make_app: MakeApp,
) -> None:
    monkeypatch.setenv("FLASK_SIGN_IN_IDLE_TIMEOUT", "2592000")
    monkeypatch.setenv("FLASK_SIGN_IN_ABSOLUTE_TIMEOUT", "2592000")
    assert make_app(TestingConfig).config["SIGN_IN_IDLE_TIMEOUT"].days == 30


@pytest.mark.parametrize(
    "method",
    [
        "scrypt:1048576:8:1",  # 1 GiB a hash
        "scrypt:1024:8:1",
        "pbkdf2:sha256:1",  # TestingConfig's, for tests alone
        "pbkdf2:sha256:50000000",
        "md5",
        "scrypt:x",
        # Python's int() would read these as 1024 and 1: a sign hides no small number.
        "scrypt:+1024:8:1",
        "pbkdf2:sha256:+1",
    ],
)
def test_hash_methods_with_too_little_or_too_much_work_stop_the_start(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    monkeypatch.setenv("FLASK_PASSWORD_HASH_METHOD", f'"{method}"')
    monkeypatch.setenv("FLASK_TESTING", "false")
    with pytest.raises(ConfigurationError, match="FLASK_PASSWORD_HASH_METHOD must be"):
        create_app(TestingConfig)


@pytest.mark.parametrize(
    "method", ["scrypt", "scrypt:16384:8:1", "scrypt:65536:8:1", "pbkdf2:sha256:600000", "pbkdf2"]
)
def test_sound_hash_methods_are_accepted(
    monkeypatch: pytest.MonkeyPatch, method: str, make_app: MakeApp
) -> None:
    monkeypatch.setenv("FLASK_PASSWORD_HASH_METHOD", f'"{method}"')
    monkeypatch.setenv("FLASK_TESTING", "false")
    assert make_app(TestingConfig).config["PASSWORD_HASH_METHOD"] == method


def test_the_most_pbkdf2_iterations_allowed_are_accepted(
    monkeypatch: pytest.MonkeyPatch, make_app: MakeApp
) -> None:
    # Werkzeug is not asked to hash with it: ten million rounds take seconds.
    monkeypatch.setattr(settings, "_werkzeug_hashes_with", lambda method: True)
    monkeypatch.setenv("FLASK_TESTING", "false")
    monkeypatch.setenv("FLASK_PASSWORD_HASH_METHOD", '"pbkdf2:sha256:10000000"')
    assert make_app(TestingConfig).config["PASSWORD_HASH_METHOD"] == "pbkdf2:sha256:10000000"
    monkeypatch.setenv("FLASK_PASSWORD_HASH_METHOD", '"pbkdf2:sha256:10000001"')
    with pytest.raises(ConfigurationError, match="FLASK_PASSWORD_HASH_METHOD must be"):
        create_app(TestingConfig)


PRODUCTION_ENVIRONMENT = {
    "FLASK_SECRET_KEY": "k" * 64,
    "FLASK_SQLALCHEMY_DATABASE_URI": "sqlite://",
    "FLASK_TRUSTED_HOSTS": '["loginflow.example"]',
}


@pytest.mark.parametrize(
    ("key", "value", "must"),
    [
        ("SESSION_COOKIE_SECURE", "false", "must be true"),
        ("SESSION_COOKIE_HTTPONLY", "false", "must be true"),
        ("WTF_CSRF_ENABLED", "false", "must be true"),
        # Flask-WTF's and Flask-Login's other switches: no token checked on the buttons
        # without a form class (sign out, End), or no sign-in nor fresh password asked.
        ("WTF_CSRF_CHECK_DEFAULT", "false", "must be true"),
        ("WTF_CSRF_METHODS", '["GET"]', "must include POST"),
        ("LOGIN_DISABLED", "true", "must be false"),
        ("DEBUG", "true", "must be false"),
        ("TESTING", "true", "must be false"),
        ("PROPAGATE_EXCEPTIONS", "true", "must be unset"),
        ("SESSION_COOKIE_NAME", '"session"', "must begin with __Host-"),
        ("REMEMBER_ME_COOKIE_NAME", '"remember"', "must begin with __Host-"),
    ],
)
def test_production_promises_cannot_be_switched_off(
    monkeypatch: pytest.MonkeyPatch, key: str, value: str, must: str, make_app: MakeApp
) -> None:
    for name, setting in PRODUCTION_ENVIRONMENT.items():
        monkeypatch.setenv(name, setting)
    assert make_app(ProductionConfig)  # as shipped, it starts
    monkeypatch.setenv(f"FLASK_{key}", value)
    with pytest.raises(ConfigurationError) as refused:
        create_app(ProductionConfig)
    assert str(refused.value) == f"FLASK_{key} {must} in production."


HSTS_REFUSED = (
    "FLASK_STRICT_TRANSPORT_SECURITY must hold a max-age of 31536000 (a year) or more, "
    "e.g. 'max-age=63072000; includeSubDomains'."
)


@pytest.mark.parametrize(
    "value",
    [
        "max-age=31535999",  # a second short of a year
        "max-age=0",  # tells browsers to forget HSTS
        "includeSubDomains",  # no max-age at all
        "",
        "null",  # JSON for None: HSTS switched off
        "63072000",  # JSON for a number, not a header value
        "max-age=63072000; includeSubDomains; max-age=1",
        "max-age=63072000; includeSubDomain",
        'max-age="63072000"',
        "max-age=63072000\r\nSet-Cookie: planted=1",
        # Line breaks and other control characters at a directive's ends: only spaces and
        # tabs may surround one, and a line break would make every response an error.
        "max-age=63072000\r\n",
        "\nmax-age=63072000",
        "max-age=63072000;\r\n preload",
        "max-age=63072000\x0b",
        "max-age=63072000\x1c; includeSubDomains",
        "max-age=63072000\u2028",
    ],
)
def test_production_refuses_hsts_shorter_than_a_year_or_malformed(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    for name, setting in PRODUCTION_ENVIRONMENT.items():
        monkeypatch.setenv(name, setting)
    monkeypatch.setenv("FLASK_STRICT_TRANSPORT_SECURITY", value)
    with pytest.raises(ConfigurationError) as refused:
        create_app(ProductionConfig)
    assert str(refused.value) == HSTS_REFUSED


@pytest.mark.parametrize(
    "value",
    [
        "max-age=31536000",
        "max-age=63072000; includeSubDomains",
        "max-age=63072000;includesubdomains;preload",
        " max-age=63072000 ;\tpreload",  # spaces and tabs around a directive are allowed
    ],
)
def test_production_takes_hsts_of_a_year_or_more_with_subdomains_if_asked(
    monkeypatch: pytest.MonkeyPatch, make_app: MakeApp, value: str
) -> None:
    for name, setting in PRODUCTION_ENVIRONMENT.items():
        monkeypatch.setenv(name, setting)
    monkeypatch.setenv("FLASK_STRICT_TRANSPORT_SECURITY", value)
    assert make_app(ProductionConfig).config["STRICT_TRANSPORT_SECURITY"] == value


def test_outside_production_hsts_may_be_off_but_not_malformed(
    monkeypatch: pytest.MonkeyPatch, make_app: MakeApp
) -> None:
    assert make_app(TestingConfig).config["STRICT_TRANSPORT_SECURITY"] is None
    monkeypatch.setenv("FLASK_STRICT_TRANSPORT_SECURITY", "max-age=60")
    with pytest.raises(ConfigurationError) as refused:
        create_app(TestingConfig)
    assert str(refused.value) == HSTS_REFUSED


def test_production_refuses_to_start_without_trusted_hosts(
    monkeypatch: pytest.MonkeyPatch,
    make_app: MakeApp,
) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", "k" * 64)
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", "sqlite://")
    with pytest.raises(ConfigurationError, match="FLASK_TRUSTED_HOSTS"):
        create_app(ProductionConfig)
    monkeypatch.setenv("FLASK_TRUSTED_HOSTS", '["loginflow.example"]')
    client = make_app(ProductionConfig).test_client()
    forged = client.get("/", headers={"Host": "evil.example"}, base_url="https://evil.example")
    assert forged.status_code == 400


def _private_file(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    path.chmod(0o600)
    return path


@pytest.mark.parametrize(
    ("make_key_file", "reason"),
    [
        (lambda f: _private_file(f, b""), "holds no usable key"),
        (lambda f: _private_file(f, b"\xff" * 64), "cannot be used (UnicodeDecodeError)"),
        (lambda f: f.mkdir(), "cannot be used (IsADirectoryError)"),
        (lambda f: f.write_text("k" * 64), "is readable by others"),
        (lambda f: f.symlink_to(_private_file(f.with_name("elsewhere"), b"k" * 64)), "(OSError)"),
        (lambda f: f.symlink_to(f.with_name("missing")), "(OSError)"),
    ],
    ids=["empty", "not text", "a folder", "world-readable", "a link", "a dangling link"],
)
def test_an_unusable_development_key_file_stops_the_start_with_one_line(
    tmp_path: Path, make_key_file: Callable[[Path], object], reason: str
) -> None:
    make_key_file(tmp_path / "secret_key")
    with pytest.raises(ConfigurationError) as refused:
        load_settings(Flask("a", instance_path=str(tmp_path)), DevelopmentConfig)
    assert reason in str(refused.value)
    assert str(refused.value).endswith("or set FLASK_SECRET_KEY.")


def _invent_key(instance: str) -> str:
    app = Flask("racer", instance_path=instance)
    load_settings(app, DevelopmentConfig)
    return app.config["SECRET_KEY"]


def test_processes_inventing_the_key_at_once_all_get_the_same_full_key(tmp_path: Path) -> None:
    with ProcessPoolExecutor(max_workers=4, mp_context=get_context("fork")) as pool:
        for attempt in range(10):
            instance = str(tmp_path / f"instance-{attempt}")
            keys = list(pool.map(_invent_key, [instance] * 4))
            assert len(set(keys)) == 1, keys
            assert len(keys[0]) == 64
            assert sorted(p.name for p in Path(instance).iterdir()) == ["secret_key"]


def test_sql_parameters_stay_hidden_whatever_engine_options_are_set(
    monkeypatch: pytest.MonkeyPatch,
    make_app: MakeApp,
) -> None:
    monkeypatch.setenv("FLASK_SQLALCHEMY_ENGINE_OPTIONS", '{"pool_pre_ping": true}')
    options = make_app(TestingConfig).config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options == {"pool_pre_ping": True, "hide_parameters": True}


def test_a_database_that_cannot_be_opened_stops_the_start_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", f'"sqlite:///{tmp_path}/no/such/dir/db"')
    with pytest.raises(ConfigurationError) as refused:
        create_app(TestingConfig)
    assert str(refused.value) == (
        "The database cannot be used (OperationalError): check FLASK_SQLALCHEMY_DATABASE_URI."
    )


@pytest.mark.parametrize(
    ("environment", "url"),
    [
        (
            {"DATABASE_URL": "sqlite:///from-the-platform.sqlite"},
            "sqlite:///from-the-platform.sqlite",
        ),
        (
            {
                "DATABASE_URL": "sqlite:///platform",
                "FLASK_SQLALCHEMY_DATABASE_URI": '"sqlite:///own"',
            },
            "sqlite:///own",  # the site's own setting wins
        ),
        ({"DATABASE_URL": "postgres://u:p@db:5432/site"}, "postgresql+psycopg://u:p@db:5432/site"),
        ({"DATABASE_URL": "postgresql://db/site"}, "postgresql+psycopg://db/site"),
        ({"FLASK_SQLALCHEMY_DATABASE_URI": '"postgres://db/site"'}, "postgresql+psycopg://db/site"),
        ({"DATABASE_URL": "postgresql+psycopg://db/site"}, "postgresql+psycopg://db/site"),
        ({}, "sqlite:///loginflow.sqlite"),
    ],
)
def test_the_database_url_comes_from_flask_settings_or_database_url_with_psycopg_for_postgres(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, environment: dict[str, str], url: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    app = Flask("a", instance_path=str(tmp_path))
    load_settings(app, DevelopmentConfig)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url


def test_production_makes_https_links_and_trusts_no_proxy_unless_told(
    monkeypatch: pytest.MonkeyPatch,
    make_app: MakeApp,
) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", '"' + "k" * 64 + '"')
    monkeypatch.setenv("FLASK_TRUSTED_HOSTS", '["example.com"]')
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", '"sqlite://"')
    app = make_app(ProductionConfig)
    app.config["SERVER_NAME"] = "example.com"
    with app.app_context():
        assert url_for("account.show", _external=True) == "https://example.com/account"
    assert app.config["TRUSTED_PROXIES"] == 0
    assert (
        app.test_client()
        .get("/", headers={"Host": "example.com"})
        .headers["Strict-Transport-Security"]
        == "max-age=63072000"
    )


def test_development_keeps_its_key_and_database_in_the_instance_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, make_app: MakeApp
) -> None:
    monkeypatch.setenv("LOGINFLOW_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    make_app(DevelopmentConfig)
    assert sorted(p.name for p in (tmp_path / "instance").iterdir()) == [
        "loginflow.sqlite",
        "loginflow.sqlite-shm",
        "loginflow.sqlite-wal",
        "secret_key",
    ]
