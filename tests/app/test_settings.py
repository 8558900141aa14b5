"""Settings: read once, validated, and a bad value names the variable at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest

from bot.config import DEFAULT_API_BASE_URL, SPECS, SettingsError, load_settings

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_defaults_match_the_design() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.token is None
    assert settings.api_base_url == DEFAULT_API_BASE_URL
    assert settings.database_path == Path("./data/communique.sqlite3")
    assert settings.admin_ids == frozenset()
    assert settings.poll_interval == 300
    assert settings.daily_time == time(9, 0)
    assert settings.timezone == "Europe/London"
    assert settings.clocks == ("Europe/Moscow", "Europe/London")
    assert settings.allow_private_feeds is False
    assert settings.broadcast_rate == 30


def test_every_design_variable_is_read() -> None:
    design = {
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_API_BASE_URL",
        "DATABASE_PATH",
        "ADMIN_IDS",
        "POLL_INTERVAL",
        "DAILY_TIME",
        "TIMEZONE",
        "CLOCKS",
        "ALLOW_PRIVATE_FEEDS",
    }
    assert design <= set(SPECS)


def test_values_are_parsed() -> None:
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "ADMIN_IDS": " 12, 34 ,",
            "POLL_INTERVAL": "60",
            "DAILY_TIME": "7:05",
            "TIMEZONE": "Europe/Berlin",
            "CLOCKS": "Europe/Moscow, America/New_York",
            "ALLOW_PRIVATE_FEEDS": "TRUE",
        },
        env_file=None,
    )
    assert settings.token == TOKEN
    assert settings.api_file_url == "http://127.0.0.1:8081/file/bot"
    assert settings.admin_ids == {12, 34}
    assert settings.poll_interval == 60
    assert settings.daily_time == time(7, 5)
    assert settings.clocks == ("Europe/Moscow", "America/New_York")
    assert settings.allow_private_feeds is True


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ADMIN_IDS", "abc", "ADMIN_IDS must be comma-separated Telegram user ids, got 'abc'"),
        ("POLL_INTERVAL", "soon", "POLL_INTERVAL must be a number between 1 and 86400"),
        ("POLL_INTERVAL", "0", "POLL_INTERVAL must be a number between 1 and 86400"),
        ("DAILY_TIME", "25:00", "DAILY_TIME must be a time of day as HH:MM"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE must be an IANA time zone"),
        ("TIMEZONE", "localtime", "TIMEZONE must be an IANA time zone"),  # the host's
        ("TIMEZONE", "Factory", "TIMEZONE must be an IANA time zone"),
        ("CLOCKS", "Europe/Moscow,Nowhere", "CLOCKS must be comma-separated IANA time zones"),
        ("ALLOW_PRIVATE_FEEDS", "maybe", "ALLOW_PRIVATE_FEEDS must be true or false"),
        ("TELEGRAM_API_BASE_URL", "ftp://x", "TELEGRAM_API_BASE_URL must be an http://"),
        ("BROADCAST_RATE", "-1", "BROADCAST_RATE must be a number between"),
        ("WEBHOOK_PORT", "99999", "WEBHOOK_PORT must be a TCP port"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value}, env_file=None)
    assert str(caught.value).startswith(expected)
    assert repr(value) in str(caught.value)


def test_zones_are_taken_in_any_case_and_stored_as_the_database_spells_them() -> None:
    settings = load_settings(
        {"TIMEZONE": "europe/london", "CLOCKS": "EUROPE/MOSCOW, utc"}, env_file=None
    )
    assert settings.timezone == "Europe/London"
    assert settings.clocks == ("Europe/Moscow", "UTC")


def test_a_bad_token_is_refused_without_echoing_it() -> None:
    secret = "not-a-token-but-secret-anyway"
    with pytest.raises(SettingsError) as caught:
        load_settings({"TELEGRAM_BOT_TOKEN": secret}, env_file=None)
    assert "TELEGRAM_BOT_TOKEN" in str(caught.value)
    assert secret not in str(caught.value)


def test_dotenv_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("ADMIN_IDS=5\nTIMEZONE=Europe/Paris\n# a comment\n")
    settings = load_settings({"TIMEZONE": "Asia/Tokyo"}, env_file=env_file)
    assert settings.admin_ids == {5}
    assert settings.timezone == "Asia/Tokyo"


def test_startup_with_a_bad_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SPECS}
    env["ADMIN_IDS"] = "abc"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == ["communique: ADMIN_IDS must be comma-separated Telegram user ids, got 'abc'"]
    assert not (tmp_path / "data").exists(), "a refused start must create nothing"


def test_an_unreadable_settings_file_is_one_clear_error(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"ADMIN_IDS=\xff\xfe5\n")
    with pytest.raises(SettingsError) as caught:
        load_settings({}, env_file=env_file)
    assert str(caught.value) == f"cannot read the settings file {env_file}: it is not UTF-8 text"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mysql://u:s3cretpw@db/x", "a postgresql://"),
        ("postgresql://u:s3cretpw@db:port/x", "its port is not a number"),
        ("postgresql://u:s3cretpw@db:5432/", "names its database"),
        ("postgresql://u:s3cretpw@db:5432", "names its database"),
    ],
)
def test_a_bad_database_url_is_named_without_its_password(value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"DATABASE_URL": value}, env_file=None)
    message = str(caught.value)
    assert message.startswith("DATABASE_URL must be")
    assert expected in message
    assert "s3cretpw" not in message
    assert "***" in message


def test_a_database_url_selects_postgresql_and_is_shown_masked() -> None:
    url = "postgresql://bot:p%40ss-word@db.internal:5433/communique?sslmode=require"
    settings = load_settings({"DATABASE_URL": url}, env_file=None)
    assert settings.database_url is not None
    assert settings.database_url.dbname == "communique"
    assert settings.database_url.port == 5433
    assert settings.database_url.password == "p@ss-word"
    assert settings.database_name == (
        "postgresql://bot:***@db.internal:5433/communique?sslmode=require"
    )
    # Both spellings of the password are kept out of every log line.
    assert {"p@ss-word", "p%40ss-word", url} <= set(settings.database_url.secrets)
    assert load_settings({}, env_file=None).database_url is None


def test_a_webhook_on_postgresql_needs_a_shared_secret() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "WEBHOOK_URL": "https://bot.example.org/hook",
        "DATABASE_URL": "postgresql://bot:secretpw@db/communique",
    }
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET"):
        load_settings(env, env_file=None)
    assert load_settings({**env, "WEBHOOK_SECRET": "shared-secret"}, env_file=None).webhook_url
