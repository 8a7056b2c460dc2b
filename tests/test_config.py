"""Configuration: defaults with no file, every key checked, errors name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_no_file_means_documented_defaults(tmp_path: Path) -> None:
    config = load_config(None, env={})
    assert config.db_path == tmp_path / "xdg" / "smart-coach" / "coach.db"
    assert config.telegram.mode == "polling"
    assert config.telegram.token is None
    assert config.timezone == "UTC"


def test_the_example_config_loads(tmp_path: Path) -> None:
    config = load_config(EXAMPLE, env={})
    assert config.telegram.api_base_url == "https://api.telegram.org/bot"
    assert config.followups.grace_minutes == 60


def test_every_key_in_the_example_is_commented() -> None:
    lines = EXAMPLE.read_text().splitlines()
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "- ")) and ":" in stripped:
            above = lines[number - 2].strip() if number > 1 else ""
            assert "#" in stripped or above.startswith("#"), f"line {number} has no comment"


def test_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "storage: {path: data/coach.db}\n"
                                         "dialogs: {path: my_dialogs}\n"), env={})
    assert config.db_path == tmp_path / "data" / "coach.db"
    assert config.dialogs_path == tmp_path / "my_dialogs"


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "telegram: {token: from-file}\n")
    assert load_config(path, env={}).telegram.token == "from-file"
    config = load_config(path, env={"TELEGRAM_BOT_TOKEN": "from-env",
                                    "TELEGRAM_WEBHOOK_SECRET": "s3cret"})
    assert config.telegram.token == "from-env"
    assert config.telegram.webhook.secret_token == "s3cret"


@pytest.mark.parametrize("text,message", [
    ("telegram:\n  mod: polling\n",
     "telegram.mod: unknown key (did you mean 'telegram.mode'?)"),
    ("telegram: {mode: carrier-pigeon}\n",
     "telegram.mode: 'carrier-pigeon' is not one of: polling, webhook"),
    ("telegram: {webhook: {port: eighty}}\n",
     "telegram.webhook.port: expected int, got 'eighty'"),
    ("telegram: {webhook: {port: 70000}}\n", "telegram.webhook.port: must be 1-65535"),
    ("timezone: Mars/Olympus\n",
     "timezone: unknown time zone 'Mars/Olympus' (use a name like Europe/London)"),
    ("storage: data.db\n", "storage: expected a section of keys"),
    ("followups: {grace_minutes: -5}\n", "followups.grace_minutes: must be 0 or more"),
    ("wat: 1\n", "wat: unknown key (known keys: timezone, admin_ids, telegram, storage, "
                 "dialogs, followups, checkins, meetings, helplines, crisis, logging)"),
    ("checkins: {per_second: 29}\n", "checkins.per_second: no longer used: nudges now take "
                                      "whatever part of Telegram's limit"),
    ("crisis: {numbers: []}\n", "crisis.numbers: list at least one number to call"),
    ("crisis: {numbers: [{label: A}]}\n", "crisis.numbers[0]: missing key 'number'"),
    ("crisis: {numbers: [{label: A, numbr: '1'}]}\n",
     "crisis.numbers[0].numbr: unknown key (did you mean 'crisis.numbers[0].number'?)"),
    ("crisis: {numbers: 999}\n", "crisis.numbers: expected a list"),
    ("- a\n- b\n", "(top level): expected a mapping of keys to values"),
    ("telegram: [\n", "line 2: not valid YAML"),
])
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert str(caught.value).startswith(f"{path}: {message}")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.yaml: \\(file\\): cannot read it"):
        load_config(tmp_path / "nope.yaml", env={})
