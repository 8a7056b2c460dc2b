"""The "did you mean" hint every name error offers."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the nearest option, or '' when nothing is close."""
    hint = difflib.get_close_matches(str(name), [str(o) for o in options], n=1)
    return f" (did you mean '{hint[0]}'?)" if hint else ""
