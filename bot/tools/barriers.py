"""Practical barriers to gambling (SMART's coping with urges: make the behaviour harder to
reach): a gambling block on a bank card, self-exclusion, a blocking app. The person tells
the bot which they have set up; it remembers (a `barrier` record per barrier, so /export
and /forget cover it) and offers them again after a gambling urge or lapse."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.dialog.registry import CheckContext, FactContext, Registry, check_none
from bot.dialog.turn import StartDialog, Turn
from bot.formats import items
from bot.storage.base import NewRecord, Record
from bot.tools.topics import topics_of

KIND = "barrier"
DIALOG = "barriers"
BARRIERS = ("bank", "exclusion", "app")  # each named by its text, barrier_<name>
STATUSES = ("set_up", "removed")


def _check(args: Any, ctx: CheckContext) -> list[str]:
    if not isinstance(args, dict) or set(args) != {"name", "status"} or \
            args["name"] not in BARRIERS or args["status"] not in STATUSES:
        return [f"expects {{name: {' | '.join(BARRIERS)}, status: {' | '.join(STATUSES)}}}"]
    return []


def _in_place(records: Sequence[NewRecord | Record]) -> list[str]:
    """The barriers the person said are set up (their latest word on each)."""
    latest: dict[str, str] = {}
    for record in records:  # newest first
        latest.setdefault(str(record.data.get("name")), str(record.data.get("status")))
    return [name for name in BARRIERS if latest.get(name) == "set_up"]


TEXTS: dict[str, tuple[str, ...]] = {
    **{f"barrier_{name}": () for name in BARRIERS}, "barrier_set_up": ("barrier",),
    "barriers_none_yet": ()}


def register(reg: Registry) -> None:
    reg.needs_texts(**TEXTS)

    def status(ctx: FactContext) -> str:
        done = set(_in_place(ctx.records(KIND)))
        lines = []
        for name in BARRIERS:
            what = ctx.text(f"barrier_{name}")
            what = what[0].upper() + what[1:]
            lines.append(f"✓ {ctx.text('barrier_set_up', barrier=what)}" if name in done
                         else f"• {what}")
        return "\n".join(lines)

    def in_place(ctx: FactContext) -> str:
        names = [ctx.text(f"barrier_{name}") for name in _in_place(ctx.records(KIND))]
        return items(names, ctx.locale) if names else ctx.text("barriers_none_yet")

    reg.facts["barriers_status"] = status
    reg.facts["barriers_in_place"] = in_place

    @reg.action("set_barrier", check=_check)
    def set_barrier(turn: Turn, args: dict[str, str]) -> None:
        """Remember a barrier set up, or gone: set_barrier: {name: bank, status: set_up}."""
        turn.records.append(NewRecord(KIND, {"name": args["name"], "status": args["status"]},
                                      key=args["name"]))

    @reg.condition("barriers_in_place", check=check_none)
    def barriers_in_place(turn: Turn, args: None) -> bool:
        """True when the person has said at least one barrier is set up."""
        return bool(_in_place(turn.records_of(KIND)))

    @reg.condition("about_gambling", check=check_none)
    def about_gambling(turn: Turn, args: None) -> bool:
        """True when what the person is changing (their focus at /start) or the words that
        opened this dialog are about gambling."""
        return "gambling" in topics_of(turn)

    @reg.action("offer_barriers", check=check_none)
    def offer_barriers(turn: Turn, args: None) -> None:
        """After an urge or a lapse about gambling: the barriers, next."""
        if about_gambling(turn, None):
            turn.effects.append(StartDialog(DIALOG))
