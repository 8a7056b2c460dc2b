"""Configuration: typed dataclasses loaded from YAML, every key checked, secrets from the
environment. Nothing here runs at import time; `load_config` is called by the CLI.

Errors name the file and the key (`config.yaml: telegram.mode: ...`), and an unknown key
suggests the nearest known one.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.errors import ConfigError
from bot.hints import did_you_mean
from bot.meetings.helpline import Topic, parse_hours

log = logging.getLogger(__name__)

TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
WEBHOOK_SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/smart-coach, i.e. ~/.local/share/smart-coach by default."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "smart-coach"


def default_dialogs_dir() -> Path:
    """./dialogs when it exists, else the dialogs folder of the source checkout."""
    here = Path("dialogs")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parent.parent / "dialogs"


@dataclass(frozen=True)
class WebhookConfig:
    listen: str = "0.0.0.0"
    port: int = 8443
    url: str | None = None
    secret_token: str | None = None  # TELEGRAM_WEBHOOK_SECRET overrides it


@dataclass(frozen=True)
class TelegramConfig:
    token: str | None = None  # TELEGRAM_BOT_TOKEN overrides it
    api_base_url: str = "https://api.telegram.org/bot"
    api_base_file_url: str = "https://api.telegram.org/file/bot"
    mode: Literal["polling", "webhook"] = "polling"
    webhook: WebhookConfig = field(default_factory=WebhookConfig)
    # Telegram's overall limit for a bot; 0 turns the limiter off (a local Bot API server).
    max_messages_per_second: int = 30
    # Messages one chat may get at once before the pace drops to about one a second
    # (Telegram's per-chat limit); 0 turns the pace off.
    per_chat_burst: int = 5


@dataclass(frozen=True)
class StorageConfig:
    path: str = ""  # empty: default_data_dir() / "coach.db"


@dataclass(frozen=True)
class DialogsConfig:
    path: str = ""  # empty: default_dialogs_dir()


@dataclass(frozen=True)
class FollowUpsConfig:
    grace_minutes: int = 60  # a follow-up missed while the bot was down is sent this late at most


@dataclass(frozen=True)
class CheckinsConfig:
    grace_minutes: int = 120  # a nudge missed while the bot was down is sent this late at most


@dataclass(frozen=True)
class MeetingsConfig:
    # Meeting Guide JSON files, or our CSV/YAML. Empty: the example list that ships with the
    # bot (real-looking, not real: replace it with your own).
    sources: tuple[str, ...] = ()  # files, or https:// addresses of published feeds
    country: str = "GB"  # preferred when a place name exists in several countries
    refresh_minutes: int = 360  # how often feeds given by address are fetched again


@dataclass(frozen=True)
class HelplineConfig:
    name: str  # the organisation, so people know who answers
    hours: str  # "Mon-Fri 09:00-17:00; Sat 10:00-14:00", "Fri-Sat 20:00-02:00" or "24/7"
    phone: str = ""
    website: str = ""  # a web page or web chat: a line may have this instead of a phone
    topic: Topic = "general"  # who it is for: offered first to people it fits
    timezone: str = ""  # of `hours`; empty: the bot's `timezone`


@dataclass(frozen=True)
class CrisisNumber:
    label: str
    number: str


UK_CRISIS_NUMBERS = (
    CrisisNumber("Emergency services", "999"),
    CrisisNumber("Samaritans (24/7, free)", "116 123"),
    CrisisNumber("NHS urgent mental health", "111, option 2"),
)


@dataclass(frozen=True)
class CrisisText:
    """A way to reach help without a phone call: a text line or a web chat."""

    label: str
    text: str = ""  # e.g. "Text SHOUT to 85258"
    web: str = ""  # e.g. a web chat's address


UK_CRISIS_TEXT = (CrisisText("Shout (24/7, free)", text="Text SHOUT to 85258"),)


@dataclass(frozen=True)
class CrisisConfig:
    numbers: tuple[CrisisNumber, ...] = UK_CRISIS_NUMBERS  # shown in this order
    text: tuple[CrisisText, ...] = UK_CRISIS_TEXT  # for people who cannot or will not phone
    # The country `numbers` and `text` are for. People there, or whose country is not
    # known, get them; people elsewhere get their country's lines from the shipped table.
    country: str = "GB"
    lines: str = ""  # a file of countries' lines replacing the shipped table's (same format)
    careful_hours: int = 24  # after a sign of risk, the bot is more careful this long


@dataclass(frozen=True)
class LoggingConfig:
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


@dataclass(frozen=True)
class Config:
    timezone: str = "UTC"  # for users who have not told us theirs
    admin_ids: tuple[int, ...] = ()  # Telegram user ids allowed /stats (counts, nothing personal)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    dialogs: DialogsConfig = field(default_factory=DialogsConfig)
    followups: FollowUpsConfig = field(default_factory=FollowUpsConfig)
    checkins: CheckinsConfig = field(default_factory=CheckinsConfig)
    meetings: MeetingsConfig = field(default_factory=MeetingsConfig)
    # None until an operator names theirs: the bot then says so plainly and gives the
    # crisis lines, rather than a number nobody answers.
    helplines: tuple[HelplineConfig, ...] = ()
    crisis: CrisisConfig = field(default_factory=CrisisConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    source: str = field(default="(defaults)", compare=False)

    @property
    def db_path(self) -> Path:
        return Path(self.storage.path) if self.storage.path else default_data_dir() / "coach.db"

    @property
    def dialogs_path(self) -> Path:
        return Path(self.dialogs.path) if self.dialogs.path else default_dialogs_dir()


def load_config(path: str | Path | None = None,
                env: Mapping[str, str] | None = None) -> Config:
    """Defaults, then the YAML file (if any), then secrets from the environment."""
    env = os.environ if env is None else env
    source = str(path) if path else "(defaults)"
    data: Any = {}
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(source, "(file)", f"cannot read it: {exc.strerror}") from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark else "(file)"
            raise ConfigError(source, where, f"not valid YAML: "
                              f"{getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(source, "(top level)", "expected a mapping of keys to values")
    data = dict(data)
    legacy = data.pop("helpline", None)  # one line, as versions before `helplines` read it
    config = _build(Config, data, source, "")
    if legacy is not None:
        if "helplines" in data:
            raise ConfigError(source, "helpline", "give your lines under `helplines` only "
                              "(move this one there)")
        if not isinstance(legacy, dict):
            raise ConfigError(source, "helpline", "expected a section of keys")
        # Its hours had a default; its empty name and phone (the old example) meant "none".
        legacy = {"name": "", "hours": "Mon-Fri 09:00-17:00", **legacy}
        line = _value(HelplineConfig, legacy, source, "helpline")
        if line.phone or line.website:
            _check_line(line, source, "helpline")
            config = dataclasses.replace(config, helplines=(line,))
        else:
            _check_line(dataclasses.replace(line, website="-"), source, "helpline")
        log.warning("%s: `helpline` is read as the one line of `helplines`, where several "
                    "(for alcohol, drugs, gambling, family …) can be given", source)
    config = dataclasses.replace(config, source=source)
    base = Path(path).resolve().parent if path else None
    config = _relative_paths(config, base)
    config = _secrets(config, env)
    _check(config)
    return config


# Keys earlier versions read, and why they are gone: an operator's old config says so.
RETIRED = {"checkins.per_second": "nudges now take whatever part of Telegram's limit the "
                                  "replies to people writing leave"}


def _build(cls: type, data: Mapping[str, Any], source: str, prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls) if f.name != "source"]
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if name in RETIRED:
            raise ConfigError(source, name, f"no longer used: {RETIRED[name]} (delete it)")
        if key not in known:
            tip = did_you_mean(name, [prefix + k for k in known]) or \
                f" (known keys: {', '.join(prefix + k for k in known)})"
            raise ConfigError(source, name, f"unknown key{tip}")
        if value is None:
            continue  # an empty key means "the default", as the example file shows
        values[key] = _value(hints[key], value, source, name)
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and f.name not in values:
            raise ConfigError(source, prefix.rstrip(".") or "(top level)",
                              f"missing key '{f.name}'")
    return cls(**values)


def _value(hint: Any, value: Any, source: str, name: str) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(source, name, "expected a section of keys")
        return _build(hint, value, source, f"{name}.")
    origin = typing.get_origin(hint)
    if origin is tuple:  # tuple[X, ...]: a list in YAML
        if not isinstance(value, list):
            raise ConfigError(source, name, "expected a list")
        item = typing.get_args(hint)[0]
        return tuple(_value(item, v, source, f"{name}[{i}]") for i, v in enumerate(value))
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise ConfigError(source, name, f"'{value}' is not one of: {', '.join(choices)}")
        return value
    options = typing.get_args(hint) if origin in (typing.Union, types.UnionType) else (hint,)
    for option in options:
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option is str and isinstance(value, str | int | float) and not isinstance(value, bool):
            return str(value)
        if option is bool and isinstance(value, bool):
            return value
    wanted = " or ".join(getattr(o, "__name__", str(o)) for o in options if o is not type(None))
    raise ConfigError(source, name, f"expected {wanted}, got {value!r}")


def _relative_paths(config: Config, base: Path | None) -> Config:
    """Paths in a config file are relative to that file, not to where the bot starts."""
    def fix(p: str) -> str:
        if not p or base is None or p.startswith(("https://", "http://")):
            return p
        expanded = Path(p).expanduser()
        return str(expanded if expanded.is_absolute() else base / expanded)
    return dataclasses.replace(
        config,
        storage=dataclasses.replace(config.storage, path=fix(config.storage.path)),
        dialogs=dataclasses.replace(config.dialogs, path=fix(config.dialogs.path)),
        meetings=dataclasses.replace(config.meetings,
                                     sources=tuple(fix(s) for s in config.meetings.sources)),
        crisis=dataclasses.replace(config.crisis, lines=fix(config.crisis.lines)),
    )


def _secrets(config: Config, env: Mapping[str, str]) -> Config:
    tg = config.telegram
    if env.get(TOKEN_ENV):
        tg = dataclasses.replace(tg, token=env[TOKEN_ENV])
    if env.get(WEBHOOK_SECRET_ENV):
        tg = dataclasses.replace(tg, webhook=dataclasses.replace(
            tg.webhook, secret_token=env[WEBHOOK_SECRET_ENV]))
    return dataclasses.replace(config, telegram=tg)


def _check(config: Config) -> None:
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(config.source, "timezone", f"unknown time zone '{config.timezone}' "
                          "(use a name like Europe/London)") from None
    if not 1 <= config.telegram.webhook.port <= 65535:
        raise ConfigError(config.source, "telegram.webhook.port", "must be 1-65535")
    if config.telegram.max_messages_per_second < 0:
        raise ConfigError(config.source, "telegram.max_messages_per_second", "must be 0 or more")
    if config.telegram.per_chat_burst < 0:
        raise ConfigError(config.source, "telegram.per_chat_burst", "must be 0 or more")
    for i, helpline in enumerate(config.helplines):
        _check_line(helpline, config.source, f"helplines[{i}]")
    if not config.crisis.numbers:
        raise ConfigError(config.source, "crisis.numbers", "list at least one number to call")
    for i, line in enumerate(config.crisis.text):
        if not (line.text or line.web):
            raise ConfigError(config.source, f"crisis.text[{i}]", "give text: (what to text, "
                              "and where) or web: (a chat's address)")
    if not re.fullmatch(r"[A-Z]{2}", config.crisis.country):
        raise ConfigError(config.source, "crisis.country", "expected a two-letter country "
                          "code in capitals, e.g. GB or US")
    if config.crisis.careful_hours < 0:
        raise ConfigError(config.source, "crisis.careful_hours", "must be 0 or more")
    if config.meetings.refresh_minutes < 1:
        raise ConfigError(config.source, "meetings.refresh_minutes", "must be 1 or more")
    if config.checkins.grace_minutes < 0:
        raise ConfigError(config.source, "checkins.grace_minutes", "must be 0 or more")
    if config.followups.grace_minutes < 0:
        raise ConfigError(config.source, "followups.grace_minutes", "must be 0 or more")


def _check_line(line: HelplineConfig, source: str, name: str) -> None:
    try:
        parse_hours(line.hours)
    except ValueError as exc:
        raise ConfigError(source, f"{name}.hours", str(exc)) from None
    if not (line.phone or line.website):
        raise ConfigError(source, name, "give a phone number, a website or both")
    if line.timezone:
        try:
            ZoneInfo(line.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(source, f"{name}.timezone",
                              f"unknown time zone '{line.timezone}'") from None
