"""The SMART tools' Python, one module each: the actions, conditions and facts their
dialogs use, added to a registry by the tool's `register`. A tool that keeps something
about a person appends a NewRecord to the Turn: every tool's records go to one
person-keyed table, so /export and /forget cover them without the tool doing anything.

bot/dialog knows none of this: `default_registry` composes the generic actions
(bot.dialog.actions) with these, for the App, the terminal chat and the tests."""

from __future__ import annotations

from bot.config import CrisisConfig, HelplineConfig
from bot.dialog import actions
from bot.dialog.registry import Registry
from bot.meetings.load import example_index
from bot.meetings.search import MeetingIndex
from bot.safety.lines import CountryLines, load_lines
from bot.tools import abc, barriers, checkins, export, progress, reminders, safety, urges
from bot.tools import meetings as meeting_tool


def default_registry(crisis: CrisisConfig | None = None,
                     timezone: str = "UTC", meetings: MeetingIndex | None = None,
                     helplines: tuple[HelplineConfig, ...] = (),
                     country: str = "GB",
                     crisis_lines: dict[str, CountryLines] | None = None) -> Registry:
    """A fresh registry with the generic actions and every tool's. Without a meeting index,
    the example list that ships with the bot; without a table of crisis lines, the one
    that ships with it."""
    reg = Registry()
    actions.register(reg, timezone)
    meeting_tool.register(reg, meetings or example_index(), helplines, timezone, country)
    safety.register(reg, crisis or CrisisConfig(), crisis_lines or load_lines())
    reminders.register(reg)
    urges.register(reg, timezone)
    checkins.register(reg, timezone)
    progress.register(reg, timezone)
    abc.register(reg)
    export.register(reg)
    barriers.register(reg)
    return reg
