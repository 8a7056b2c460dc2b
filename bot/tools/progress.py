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
from bot.formats import Say, short_date, whole
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


def summary(checkins: list[CheckinEntry], urges: list[UrgeEntry], today: date, say: Say,
            language: str) -> str:
    current, longest = runs(checkins, today)
    since = today - timedelta(days=DAYS - 1)
    handled = sum(1 for u in urges if u.used == "no" and u.at.date() >= since)
    good = sum(1 for c in checkins if c.went_well == "yes")
    counts = {"days": DAYS, "checkins": len(checkins), "good": good, "current": current,
              "longest": longest, "handled": handled}
    return say("progress_summary", **{k: whole(n, language) for k, n in counts.items()})


# The chart's words (messages.yaml texts), drawn off the engine thread: gathered in the step.
CHART_TEXTS = ("chart_title", "chart_urges", "chart_urge_strength", "chart_mood",
               "chart_mood_axis", "chart_good")
TEXTS: dict[str, tuple[str, ...]] = {
    "progress_summary": ("days", "checkins", "good", "current", "longest", "handled"),
    **{key: ("days",) if key == "chart_title" else () for key in CHART_TEXTS}}


def chart_data(checkins: list[CheckinEntry], today: date, say: Say,
               language: str) -> dict[str, Any]:
    """What `draw` needs, as JSON-able data (gathered in the step, words included)."""
    return {"today": today.isoformat(), "language": language,
            "words": {key: say(key, days=DAYS) if key == "chart_title" else say(key)
                      for key in CHART_TEXTS},
            "days": [[c.day.isoformat(), c.mood, c.urges, c.went_well] for c in checkins]}


def draw(data: dict[str, Any]) -> bytes:
    """The chart for chart_data's data (drawn off the engine thread)."""
    checkins = [CheckinEntry(date.fromisoformat(day), mood, urges, went_well or "")
                for day, mood, urges, went_well in data["days"]]
    # A chart queued before its words were part of the data draws without them.
    return chart(checkins, date.fromisoformat(data["today"]), data.get("words", {}),
                 data.get("language", "en"))


def chart(checkins: list[CheckinEntry], today: date, words: dict[str, str],
          language: str) -> bytes:
    """A PNG: mood (1-5) and urge strength (0-10) per day, good days marked."""
    import matplotlib

    matplotlib.use("Agg")  # no screen: render to memory
    from matplotlib import pyplot as plt
    from matplotlib.dates import date2num, num2date
    from matplotlib.ticker import FuncFormatter

    days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]
    by_day = {c.day: c for c in checkins}

    def x(dates: list[date]) -> Any:
        return date2num(dates)  # type: ignore[no-untyped-call]

    figure, mood_axis = plt.subplots(figsize=(8, 4), dpi=110)
    urge_axis = mood_axis.twinx()
    urges = [float(by_day[d].urges or 0) if d in by_day else 0.0 for d in days]
    urge_axis.bar(x(days), urges, color="#f4a582", alpha=0.6, label=words.get("chart_urges", ""))
    urge_axis.set_ylim(0, 10)
    urge_axis.set_ylabel(words.get("chart_urge_strength", ""))
    mood_days = [d for d in days if d in by_day and by_day[d].mood is not None]
    mood_axis.plot(x(mood_days), [float(by_day[d].mood or 0) for d in mood_days], marker="o",
                   color="#2166ac", label=words.get("chart_mood", ""), zorder=3)
    mood_axis.set_ylim(0.5, 5.5)
    mood_axis.set_ylabel(words.get("chart_mood_axis", ""))
    good = [d for d in days if d in by_day and by_day[d].went_well == "yes"]
    mood_axis.scatter(x(good), [5.3] * len(good), marker="*", s=90, color="#1b7837",
                      label=words.get("chart_good", ""), zorder=4)
    mood_axis.set_zorder(urge_axis.get_zorder() + 1)
    mood_axis.patch.set_visible(False)
    mood_axis.set_title(words.get("chart_title", ""))
    mood_axis.xaxis_date()
    mood_axis.xaxis.set_major_formatter(FuncFormatter(  # "05 Jan", "05 ene"
        lambda value, _: short_date(num2date(value).date(), language)))  # type: ignore[no-untyped-call]
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
    reg.needs_texts(**TEXTS)

    def local_today(ctx: FactContext) -> date:
        return ctx.now.astimezone(ZoneInfo(ctx.timezone) if ctx.timezone else zone).date()

    def progress_summary(ctx: FactContext) -> str:
        today = local_today(ctx)
        since = today - timedelta(days=DAYS - 1)
        return summary(checkins_of(ctx.store, ctx.user_id, since),
                       urges_of(ctx.store, ctx.user_id, 100), today, ctx.text, ctx.locale)

    def progress_chart(ctx: FactContext) -> dict[str, Any]:
        today = local_today(ctx)
        since = today - timedelta(days=DAYS - 1)
        return chart_data(checkins_of(ctx.store, ctx.user_id, since), today, ctx.text,
                          ctx.locale)

    reg.facts["progress_summary"] = progress_summary
    reg.pictures["progress_chart"] = Picture(progress_chart, draw)
