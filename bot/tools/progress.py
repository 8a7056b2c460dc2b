"""Progress without shame: the last 30 days of check-ins as a chart and a short summary.

A lapse never wipes anything: the summary counts good days, the longest run of them and urges
handled without using, never "days since".
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.dialog.registry import FactContext, Picture, Registry
from bot.tools.checkins import CheckinEntry, checkins_of
from bot.tools.urges import UrgeEntry, urges_of

DAYS = 30


def runs(checkins: list[CheckinEntry], today: date) -> tuple[int, int]:
    """(current, longest) run of consecutive days that went the way the person wanted."""
    good = {c.day for c in checkins if c.went_well == "yes"}
    checked = {c.day for c in checkins}
    longest = run = 0
    day = today - timedelta(days=DAYS - 1)
    while day <= today:
        run = run + 1 if day in good else 0
        longest = max(longest, run)
        day += timedelta(days=1)
    # The current run ends today, or yesterday if today has no check-in yet.
    day = today if today in checked else today - timedelta(days=1)
    current = 0
    while day in good:
        current += 1
        day -= timedelta(days=1)
    return current, longest


def summary(checkins: list[CheckinEntry], urges: list[UrgeEntry], today: date) -> str:
    current, longest = runs(checkins, today)
    since = today - timedelta(days=DAYS - 1)
    handled = sum(1 for u in urges if u.used == "no" and u.at.date() >= since)
    good = sum(1 for c in checkins if c.went_well == "yes")
    lines = [f"Check-ins in the last {DAYS} days: {len(checkins)}",
             f"Days that went the way you wanted: {good}",
             f"Current run of good days: {current} (longest: {longest})",
             f"Urges handled without using: {handled}"]
    return "\n".join(lines)


def chart_data(checkins: list[CheckinEntry], today: date) -> dict[str, Any]:
    """What `draw` needs, as JSON-able data (gathered in the step)."""
    return {"today": today.isoformat(),
            "days": [[c.day.isoformat(), c.mood, c.urges, c.went_well] for c in checkins]}


def draw(data: dict[str, Any]) -> bytes:
    """The chart for chart_data's data (drawn off the engine thread)."""
    checkins = [CheckinEntry(date.fromisoformat(day), mood, urges, went_well or "")
                for day, mood, urges, went_well in data["days"]]
    return chart(checkins, date.fromisoformat(data["today"]))


def chart(checkins: list[CheckinEntry], today: date) -> bytes:
    """A PNG: mood (1-5) and urge strength (0-10) per day, good days marked."""
    import matplotlib

    matplotlib.use("Agg")  # no screen: render to memory
    from matplotlib import pyplot as plt
    from matplotlib.dates import DateFormatter, date2num

    days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    by_day = {c.day: c for c in checkins}

    def x(dates: list[date]) -> Any:
        return date2num(dates)  # type: ignore[no-untyped-call]

    figure, mood_axis = plt.subplots(figsize=(8, 4), dpi=110)
    urge_axis = mood_axis.twinx()
    urges = [float(by_day[d].urges or 0) if d in by_day else 0.0 for d in days]
    urge_axis.bar(x(days), urges, color="#f4a582", alpha=0.6, label="Urges (0-10)")
    urge_axis.set_ylim(0, 10)
    urge_axis.set_ylabel("Urge strength")
    mood_days = [d for d in days if d in by_day and by_day[d].mood is not None]
    mood_axis.plot(x(mood_days), [float(by_day[d].mood or 0) for d in mood_days], marker="o",
                   color="#2166ac", label="Mood (1-5)", zorder=3)
    mood_axis.set_ylim(0.5, 5.5)
    mood_axis.set_ylabel("Mood")
    good = [d for d in days if d in by_day and by_day[d].went_well == "yes"]
    mood_axis.scatter(x(good), [5.3] * len(good), marker="*", s=90, color="#1b7837",
                      label="Went the way I wanted", zorder=4)
    mood_axis.set_zorder(urge_axis.get_zorder() + 1)
    mood_axis.patch.set_visible(False)
    mood_axis.set_title(f"Your last {DAYS} days")
    mood_axis.xaxis_date()
    mood_axis.xaxis.set_major_formatter(DateFormatter("%d %b"))  # type: ignore[no-untyped-call]
    figure.autofmt_xdate()
    handles = mood_axis.get_legend_handles_labels()[0] + urge_axis.get_legend_handles_labels()[0]
    mood_axis.legend(handles=handles, loc="lower left", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def register(reg: Registry, timezone: str) -> None:
    zone = ZoneInfo(timezone)

    def local_today(ctx: FactContext) -> date:
        return ctx.now.astimezone(ZoneInfo(ctx.timezone) if ctx.timezone else zone).date()

    def progress_summary(ctx: FactContext) -> str:
        today = local_today(ctx)
        since = today - timedelta(days=DAYS - 1)
        return summary(checkins_of(ctx.store, ctx.user_id, since),
                       urges_of(ctx.store, ctx.user_id, 100), today)

    def progress_chart(ctx: FactContext) -> dict[str, Any]:
        today = local_today(ctx)
        since = today - timedelta(days=DAYS - 1)
        return chart_data(checkins_of(ctx.store, ctx.user_id, since), today)

    reg.facts["progress_summary"] = progress_summary
    reg.pictures["progress_chart"] = Picture(progress_chart, draw)
