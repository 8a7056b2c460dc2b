"""Turn a dialog author's text into a message: answers filled in, light markup, escaping.

Authors write plain text with {answer} placeholders, **bold** and *italic*. The result is
the Telegram HTML subset: the author's text and every stored answer are escaped, so a
user who types "<b>" or "&" sees exactly that and can never inject markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

# {key} or {key|words shown when the answer is missing}; {{ and }} are literal braces.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.S)
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)([^*]+?)(?<=\S)\*(?![*\w])")
_TAG = re.compile(r"<[^>]+>")


class Marked(str):
    """A computed value with the authors' light markup (**bold**, *italic*) meant as
    formatting, e.g. a helpline's name in bold; escaped like any value otherwise."""


def _markup(escaped: str) -> str:
    return _ITALIC.sub(r"<i>\1</i>", _BOLD.sub(r"<b>\1</b>", escaped))


def placeholders(text: str) -> tuple[list[str], list[str]]:
    """The answer keys a text uses, and what is wrong with its placeholders."""
    keys: list[str] = []
    problems: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if match.group(1) is None:
            problems.append(f"unmatched '{token}' (write {{{{ or }}}} for a literal brace)")
            continue
        key = match.group(1).split("|", 1)[0].strip()
        if not _KEY.match(key):
            problems.append(f"'{{{match.group(1)}}}' is not a placeholder like {{reason}} "
                            "or {reason|your reason}")
        else:
            keys.append(key)
    return keys, problems


def show(value: Any) -> str:
    """How a stored answer reads in a message: 7.0 as 7, lists comma-separated."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value)
    return "" if value is None else str(value)


def fill(text: str, values: Mapping[str, Any], *, escape: bool = True) -> str:
    """Replace placeholders with values (escaped for HTML unless escape=False)."""
    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        if match.group(1) is None:
            return token
        key, _, fallback = match.group(1).partition("|")
        value = values.get(key.strip())
        shown = show(value) if value not in (None, "") else fallback.strip()
        if not escape:
            return shown
        return _markup(html.escape(shown, quote=False)) if isinstance(value, Marked) else \
            html.escape(shown, quote=False)
    return _TOKEN.sub(replace, text)


def to_html(text: str, values: Mapping[str, Any]) -> str:
    """An author's text as Telegram HTML, with answers filled in and escaped."""
    return fill(_markup(html.escape(text, quote=False)), values)


def to_plain(text: str) -> str:
    """Telegram HTML back to plain text, for channels without formatting."""
    return html.unescape(_TAG.sub("", text))
