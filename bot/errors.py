"""The error family. Every error a person can cause says where and what, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass


class BotError(Exception):
    """Base of every error smart-coach raises on purpose."""


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong in a file, printed as `file:line: message`."""

    file: str
    line: int
    message: str
    code: str = ""  # what kind of problem, in a few words, for a summary line

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class DialogError(BotError):
    """One or more dialog files are invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(BotError):
    """A configuration value is missing or wrong; names the file and the key."""

    def __init__(self, file: str, key: str, message: str):
        self.file, self.key = file, key
        where = "" if file == "(defaults)" else f"{file}: "  # no file given: just the key
        super().__init__(f"{where}{key}: {message}")
