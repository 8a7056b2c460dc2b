"""Regular expressions that skip messages they cannot match, cheaply.

The crisis net runs some 250 patterns over every message. Python's `re` tries a pattern
that starts with `\\b(took|taken|...)` at every position of the message, so a long message
costs a few microseconds per pattern even when no word of it is there. Most patterns need
one of a few literal strings ("took", "taken" ...) to match at all. `Rule` finds those
strings when it is built, from the parsed pattern, and keeps a three-letter piece of each;
the message's pieces are put in a set once, and a rule none of whose pieces is in it is not
searched: one set operation instead of a scan. bench/lookups.py times it.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# The parser behind re.compile is private (re._parser), so it is looked up, not imported:
# on a Python without it every rule is simply searched, only slower.
try:
    sre_parse: Any = importlib.import_module("re._parser")
    sre: Any = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover
    sre_parse = sre = None


GRAM = 3  # characters in the pieces a message is indexed by


def grams(message: str) -> frozenset[str]:
    """Every run of GRAM characters in the message: what `Rule.search` checks against."""
    return frozenset(message[i:i + GRAM] for i in range(len(message) - GRAM + 1))


# Letters by how often they start English words and fill them: a piece made of rarer ones
# ("ook" of "took", not "too") is in fewer messages, so fewer rules are looked at.
COMMON = " etaoinshrdlucmfwypvbgkjqxz"


def _rarest_piece(string: str) -> str:
    pieces = [string[i:i + GRAM] for i in range(len(string) - GRAM + 1)]
    return max(pieces, key=lambda piece: sum(COMMON.find(c) % len(COMMON) for c in piece))


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    # A piece of each string of the most selective group a match needs (one of the group's
    # strings is in every match, so one of these pieces is in every message it matches);
    # None when a string is too short or nothing could be worked out: always searched.
    keys: frozenset[str] | None = field(init=False)
    # Those strings themselves: a message with a key but none of them is not searched.
    strings: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        groups = needed(self.pattern)
        keys = None
        if groups and min(map(len, groups[0])) >= GRAM:
            keys = frozenset(map(_rarest_piece, groups[0]))
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "strings", groups[0] if keys else ())

    @classmethod
    def compile(cls, source: str) -> Rule:
        return cls(re.compile(source))

    def search(self, message: str, pieces: frozenset[str] | None = None
               ) -> re.Match[str] | None:
        """pattern.search; pieces (grams(message)), when given, skip most messages
        that cannot match without searching them."""
        if pieces is not None and self.keys is not None and self.keys.isdisjoint(pieces):
            return None
        return self.pattern.search(message)

    def sub(self, replacement: str, message: str, pieces: frozenset[str] | None = None
            ) -> str:
        if pieces is not None and self.keys is not None and self.keys.isdisjoint(pieces):
            return message
        return self.pattern.sub(replacement, message)


def needed(pattern: re.Pattern[str]) -> tuple[tuple[str, ...], ...]:
    """Groups of strings such that every match of pattern contains one of each group."""
    if sre_parse is None or pattern.flags & re.IGNORECASE:
        return ()
    try:
        groups = _sequence(sre_parse.parse(pattern.pattern).data)
    except Exception:  # noqa: BLE001 - a parser we cannot read only costs speed
        return ()
    # Most selective first: the group whose shortest string is longest, then the smallest.
    ordered = sorted(groups, key=lambda g: (-min(map(len, g)), len(g)))
    return tuple(tuple(sorted(g)) for g in ordered)


def _sequence(items: list[tuple[Any, Any]]) -> list[frozenset[str]]:
    """For a sequence of parsed items: every group of strings it needs, each run of
    literals being a group of one."""
    groups: list[frozenset[str]] = []
    run = ""
    for op, value in items:
        if op is sre.LITERAL:
            run += chr(value)
            continue
        if op is sre.AT:  # \b, ^, $: match no characters, so a run goes on across them
            continue
        if run:
            groups.append(frozenset([run]))
            run = ""
        if op is sre.SUBPATTERN:
            groups.extend(_sequence(value[-1].data))
        elif op is sre.BRANCH:
            # Each branch needs something: the union of one group from each (the most
            # selective: whose shortest string is longest).
            best = [max(found, key=lambda g: (min(map(len, g)), -len(g))) if found else None
                    for found in (_sequence(branch.data) for branch in value[1])]
            if all(best):
                groups.append(frozenset().union(*best))  # type: ignore[arg-type]
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and value[0] >= 1:
            groups.extend(_sequence(value[2].data))
    if run:
        groups.append(frozenset([run]))
    return groups


@dataclass(frozen=True)
class RuleSet:
    """Rules asked together ("does any match?"), indexed by their pieces: a message looks
    up its own pieces once, instead of every rule checking its keys."""

    rules: tuple[Rule, ...]
    index: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    always: frozenset[int] = field(init=False, repr=False, compare=False)  # rules with no keys
    # The index's keys as a set: `pieces & keys` then walks the smaller of the two, where
    # `pieces & index.keys()` would copy every key first.
    keys: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, list[int]] = {}
        for i, rule in enumerate(self.rules):
            for key in rule.keys or ():
                index.setdefault(key, []).append(i)
        object.__setattr__(self, "index", {key: tuple(found) for key, found in index.items()})
        object.__setattr__(self, "keys", frozenset(index))
        object.__setattr__(self, "always", frozenset(
            i for i, rule in enumerate(self.rules) if rule.keys is None))

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def any(self, message: str, pieces: frozenset[str]) -> bool:
        candidates = set(self.always)
        for piece in pieces & self.keys:
            candidates.update(self.index[piece])
        for i in candidates:
            rule = self.rules[i]
            if (not rule.strings or any(string in message for string in rule.strings)) \
                    and rule.pattern.search(message):
                return True
        return False
