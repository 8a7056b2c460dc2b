"""Logging set-up: secrets never reach a log line, a traceback included.

python-telegram-bot and httpx put the bot token in request URLs and in some error
messages; a filter on every handler replaces each secret before anything is written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

MASK = "<secret>"
LIBRARIES = ("telegram", "httpcore", "transitions", "apscheduler", "aiohttp")


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = ()
        if record.exc_info:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(formatted)
        return True


def setup(level: str, secrets: Iterable[str] = ()) -> None:
    """Log to stderr at `level`, with every secret masked."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redact = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    # httpx logs every request URL (with the token) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # AIORateLimiter logs a whole traceback for every 429 it passes on; the sender waits
    # the 429 out and logs one line itself (bot.channels.telegram.sender).
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    # At DEBUG, python-telegram-bot and transitions log whole updates, message texts
    # included; smart-coach's own debug lines never carry texts, so only those go lower.
    floor = max(logging.getLevelName(level), logging.INFO)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(floor)
    # transitions logs every state entered and left at INFO: noise in an operator's log,
    # and a cost on every step.
    logging.getLogger("transitions").setLevel(max(floor, logging.WARNING))
