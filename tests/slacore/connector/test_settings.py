"""Connector settings and secrets (slacore.connector.settings)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from slacore.connector import (
    Secret,
    Setting,
    SettingKind,
    Settings,
)
from slacore.errors import ConfigError, ValidationError

# --- settings and secrets --------------------------------------------------------------------

SCHEMA = (
    Setting(name="url", required=True, help="the API address"),
    Setting(name="token", secret=True),
    Setting(name="pages", kind=SettingKind.INTEGER, default=10, minimum=1),
    Setting(name="verbose", kind="boolean", default=False),
    Setting(name="folder", kind=SettingKind.PATH),
    Setting(name="objects", kind=SettingKind.LIST),
    Setting(name="extra", kind=SettingKind.TABLE),
    Setting(name="zone", kind=SettingKind.TIMEZONE),
    Setting(name="mode", choices=("fast", "safe"), default="safe"),
)


def test_settings_convert_and_fill_defaults() -> None:
    settings = Settings.validate(
        SCHEMA,
        {
            "url": "https://x.test",
            "pages": "25",
            "verbose": "yes",
            "folder": "~/exports",
            "objects": ["a", "b"],
            "extra": {"k": 1},
            "zone": "Europe/Berlin",
        },
    )
    assert settings["pages"] == 25
    assert settings["verbose"] is True
    assert settings["folder"] == Path("~/exports").expanduser()
    assert settings["objects"] == ("a", "b")
    assert settings["extra"] == {"k": 1}
    assert settings["mode"] == "safe"
    assert settings["token"] is None
    assert len(settings) == len(SCHEMA)
    assert settings.to_dict()["folder"] == str(Path("~/exports").expanduser())


def test_settings_unknown_key_lists_the_known() -> None:
    with pytest.raises(ValidationError) as info:
        Settings.validate(SCHEMA, {"url": "u", "tokn": "x"}, owner="demo")
    assert info.value.field == "tokn"
    assert "unknown setting 'tokn' of connector demo" in str(info.value)
    assert "token" in str(info.value)


def test_settings_required_missing() -> None:
    with pytest.raises(ValidationError, match="'url' of connector demo is required: the API"):
        Settings.validate(SCHEMA, {}, owner="demo")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("pages", 0, "at least 1"),
        ("pages", "many", "a whole number"),
        ("pages", True, "a whole number"),
        ("verbose", "maybe", "true or false"),
        ("folder", "", "path"),
        ("objects", "a", "list of strings"),
        ("objects", ["a", 1], "list of strings"),
        ("extra", [1], "table"),
        ("zone", "Mars/Base", "time zone"),
        ("zone", 5, "time zone"),
        ("mode", "reckless", "one of 'fast', 'safe'"),
        ("url", 5, "text"),
    ],
)
def test_settings_wrong_kind(key: str, value: object, expected: str) -> None:
    with pytest.raises(ValidationError, match=expected) as info:
        Settings.validate(SCHEMA, {"url": "u", key: value})
    assert info.value.field == key


def test_settings_must_be_a_mapping() -> None:
    with pytest.raises(ValidationError, match="must be a table"):
        Settings.validate(SCHEMA, ["url"])  # type: ignore[arg-type]


def test_secret_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.validate(SCHEMA, {"url": "u", "token": "pat-s3cr3t"})
    token = settings["token"]
    assert isinstance(token, Secret)
    assert token.reveal() == "pat-s3cr3t"
    caplog.set_level(logging.DEBUG)
    logging.getLogger("test").info("settings %s %r token %s", settings, settings, token)
    shown = [repr(settings), str(settings), json.dumps(settings.to_dict()), caplog.text]
    assert all("pat-s3cr3t" not in text for text in shown)
    assert "token=Secret('***')" in repr(settings)
    assert settings.to_dict()["token"] == "***"


def test_a_bad_secret_is_not_put_into_the_error() -> None:
    with pytest.raises(ValidationError) as info:
        Settings.validate((Setting(name="token", secret=True, choices=("a",)),), {"token": "pw"})
    assert "pw" not in str(info.value)
    assert info.value.value is None


def test_secret_setting_accepts_a_secret() -> None:
    settings = Settings.validate(SCHEMA, {"url": "u", "token": Secret("x")})
    assert settings["token"] == Secret("x")


def test_settings_report_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.validate(SCHEMA, {"tokn": "pat-s3cr3t", "pages": 0}, owner="demo")
    error = info.value
    assert error.message == "3 problems in the settings of connector demo"
    assert [e.field for e in error.errors] == ["tokn", "url", "pages"]
    assert 'did you mean "token"?' in str(error.errors[0])
    # An unknown key may be a misspelt secret: its value is never shown.
    assert "pat-s3cr3t" not in str(error)
    assert isinstance(error, ValidationError)
