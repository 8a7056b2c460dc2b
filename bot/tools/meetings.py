"""What the meeting and helpline dialogs can use: the `find_meetings`, `more_meetings` and
`helpline_for` actions, the facts {meetings_nearby}, {online_meetings}, {online_when},
{helpline}, the venue
nearest_meeting, and the conditions helpline_open and no_helpline."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import HelplineConfig
from bot.dialog.registry import FactContext, Registry, check_in_save, check_none
from bot.dialog.render import Marked
from bot.dialog.turn import Turn
from bot.events import Venue
from bot.formats import Say, clock, day_and_time, decimal, items
from bot.meetings import types
from bot.meetings import when as when_words
from bot.meetings.helpline import STATUS_TEXTS, Line, offered, parse_hours
from bot.meetings.load import EXAMPLE
from bot.meetings.model import Meeting, ends, next_start
from bot.meetings.search import MeetingIndex
from bot.meetings.types import LANGUAGES, NOT_FOR_ONESELF, type_name
from bot.meetings.when import when_asked, window, without_when, words
from bot.nlu.words import Words
from bot.phrases import Lists, alternatives, plain, whole
from bot.places import find_places
from bot.tools.topics import topics_of

PAGE = 4  # meetings per message
# How a request names a place and a kind of meeting, in each language: dialogs/words/<lang>.yaml
# section `meetings` (before_place, after_place, not_places, around, online, and a list for
# each kind asked for in words).
WORDS = "meetings"
WITHIN_KM = 40.0
# Kinds of meeting people ask for in words: the type code they mean, and its word list.
ASKED_TYPES = {"W": "women", "M": "men", "Y": "young", "LGBTQ": "lgbtq"}
SAME_KIND = {"Y": {"Y", "YA"}}  # lists use either for young people's meetings
# The kinds asked for in words, as a heading names them: texts meetings_for_<code>.
FOR = ("W", "M", "Y", "LGBTQ")
# The sentences this tool builds replies from (messages.yaml `texts:`), with what each fills.
TEXTS: dict[str, tuple[str, ...]] = {
    **STATUS_TEXTS, **types.TEXTS, **when_words.TEXTS,
    **{f"helpline_for_{topic}": () for topic in ("alcohol", "drugs", "gambling", "eating",
                                                 "family")},
    **{f"meetings_for_{code.lower()}": () for code in FOR},
    "meetings_examples_note": (), "meetings_no_more": ("km",),
    "meeting_nearby": ("number", "name", "km", "kind", "when", "place"),
    "meeting_for_family": (), "meeting_hybrid": (), "meeting_online": (),
    "meeting_approximate": ("area",),
    "meeting_under_way": ("start",), "meeting_under_way_until": ("start", "end"),
    "meeting_your_time": ("when",),
    "online_for_when": ("when",), "online_none_for_when": ("when",),
    "online_next": (), "online_none_listed": (),
    "heading_none_of_kind": ("kind",), "heading_none_when": ("when",),
}


def _of_kind(meeting: Meeting, kind: str) -> bool:
    return not SAME_KIND.get(kind, {kind}).isdisjoint(meeting.types)


def _when(start: datetime, zone: ZoneInfo, language: str) -> str:
    return day_and_time(start.astimezone(zone), language)


def places_named(text: str, country: str, words: Lists) -> list[Any]:
    """The places a typed name means, as people type it: "leeds city centre", "around
    Leeds", "the Manchester area" (or "el centro de Sevilla") are Leeds, Manchester, Seville."""
    around = whole(words.phrases(WORDS, "around"))
    return find_places(text, country) or find_places(
        " ".join(around.sub(" ", text).split()).strip(" ,.?!"), country)


def place_in_request(text: str, country: str, words: Lists) -> str:
    """The known place a request names ("meetings for women in Leeds tonight" -> "Leeds"),
    or "": from the first word that can come before a place, trying each in turn."""
    ending = re.compile(rf"(?:\s+(?:{alternatives(words.phrases(WORDS, 'after_place'))}))*"
                        r"[\s?!.,]*$", re.IGNORECASE)
    not_places = {plain(p) for p in words.phrases(WORDS, "not_places")}
    for match in whole(words.phrases(WORDS, "before_place")).finditer(text):
        place = ending.sub("", text[match.end():]).strip(" ?!.,")
        if place and plain(place) not in not_places and places_named(place, country, words):
            return place
    return ""


def _kind(meeting: Meeting, say: Say, language: str, among_online: bool = False) -> str:
    """What kind of meeting, in words: who it is for, how to attend (not "online" in a list
    of online meetings), its types."""
    words = [] if meeting.for_oneself else [say("meeting_for_family")]
    if meeting.in_person and meeting.online:
        words.append(say("meeting_hybrid"))
    elif meeting.online and not among_online:
        words.append(say("meeting_online"))
    # The language the person reads: saying so of every meeting says nothing.
    skip = {"ONL", "HY", LANGUAGES.get(language, ""), *NOT_FOR_ONESELF}
    words += [type_name(t, say) for t in meeting.types if t.strip().upper() not in skip]
    return f" · {', '.join(words)}" if words else ""


def _until(meeting: Meeting, start: datetime, zone: ZoneInfo, language: str) -> str:
    finish = ends(meeting, start)
    return f"-{clock(finish.astimezone(zone), language)}" if finish else ""


def _place(meeting: Meeting, say: Say) -> str:
    place = ", ".join(p for p in (meeting.location, meeting.address) if p)
    if meeting.approximate:
        return say("meeting_approximate", area=meeting.area or place) + (
            f" ({place})" if place and meeting.area else "")
    return place


def _zone(ctx: FactContext, default: ZoneInfo) -> ZoneInfo:
    """The person's zone as this step knows it (one just given included)."""
    return ZoneInfo(ctx.timezone) if ctx.timezone else default


def _line(config: HelplineConfig, timezone: str) -> Line:
    return Line(config.name, config.phone, config.website, config.topic, config.hours,
                parse_hours(config.hours), ZoneInfo(config.timezone or timezone))


def register(reg: Registry, index: MeetingIndex, helplines: tuple[HelplineConfig, ...],
             timezone: str, country: str) -> None:
    reg.needs_texts(**TEXTS)
    default_zone = ZoneInfo(timezone)
    lines = [_line(h, timezone) for h in helplines]

    def lines_for(answers: Any) -> list[Line]:
        return offered(lines, set(answers.get("helpline.topics") or ()))

    def results(answers: Any, now: datetime, zone: ZoneInfo) -> list[tuple[Meeting, float]]:
        """The meetings near the place asked about, nearest first; those starting when the
        person asked ("tonight"), if any do."""
        lat, lon = answers.get("meeting.lat"), answers.get("meeting.lon")
        if lat is None or lon is None:
            return []
        near = index.nearest(float(lat), float(lon), count=PAGE * 25, within_km=WITHIN_KM)
        kind = answers.get("meeting.type")
        if kind:  # "women's meetings": those, when there are any near
            near = [(m, km) for m, km in near if _of_kind(m, str(kind))] or near
        when = answers.get("meeting.when")
        if not when:
            return near[:PAGE * 5]
        start, end = window(str(when), now.astimezone(zone))
        timely = [(m, km) for m, km in near if start <= next_start(m, start) < end]
        return (timely or near)[:PAGE * 5]

    def meetings_nearby(ctx: FactContext) -> str:
        zone = _zone(ctx, default_zone)
        page = int(ctx.answers.get("meeting.page", 0) or 0)
        found = results(ctx.answers, ctx.now, zone)[page * PAGE:(page + 1) * PAGE]
        say, language = ctx.text, ctx.locale
        if not found:
            return say("meetings_no_more", km=decimal(WITHIN_KM, language, 0))
        lines = []
        for number, (meeting, km) in enumerate(found, start=page * PAGE + 1):
            start = next_start(meeting, ctx.now)
            lines.append(say("meeting_nearby", number=number, name=meeting.name,
                             km=decimal(km, language), kind=_kind(meeting, say, language),
                             when=_when(start, zone, language) +
                             _until(meeting, start, zone, language),
                             place=_place(meeting, say)))
        return (examples_note(say) if page == 0 else "") + "\n\n".join(lines)

    def online_results(answers: Any, now: datetime, zone: ZoneInfo, say: Say, language: str
                       ) -> tuple[list[tuple[Meeting, datetime]], str]:
        """The online meetings for the time asked about ("online now": under way or starting
        soon), with the heading; none then: the next ones, and the heading says so."""
        kind = answers.get("meeting.type")

        def of_kind(found: list[tuple[Meeting, datetime]]) -> list[tuple[Meeting, datetime]]:
            # "women's online meetings": those, when there are any
            return ([(m, s) for m, s in found if _of_kind(m, str(kind))] or found)[:PAGE] if kind \
                else found[:PAGE]
        when = answers.get("meeting.when")
        if when:
            start, end = window(str(when), now.astimezone(zone))
            found = of_kind(index.online_between(start, end, count=PAGE * 10))
            said = words(str(when), say, language)
            if found:
                return found, say("online_for_when", when=said)
            return (of_kind(index.next_online(now, count=PAGE * 10)),
                    say("online_none_for_when", when=said))
        return of_kind(index.next_online(now, count=PAGE * 10)), say("online_next")

    def online_when(ctx: FactContext) -> str:
        zone = _zone(ctx, default_zone)
        return online_results(ctx.answers, ctx.now, zone, ctx.text, ctx.locale)[1]

    def online_meetings(ctx: FactContext) -> str:
        zone = _zone(ctx, default_zone)
        say, language = ctx.text, ctx.locale
        lines = []
        for meeting, start in online_results(ctx.answers, ctx.now, zone, say, language)[0]:
            join = meeting.conference_url or meeting.conference_phone
            notes = f" ({meeting.conference_url_notes})" if meeting.conference_url_notes else ""
            if start <= ctx.now:
                finish = ends(meeting, start)
                since = clock(start.astimezone(zone), language)
                at = say("meeting_under_way_until", start=since,
                         end=clock(finish.astimezone(zone), language)) if finish else \
                    say("meeting_under_way", start=since)
            else:
                at = say("meeting_your_time", when=_when(start, zone, language) +
                         _until(meeting, start, zone, language))
            kind = _kind(meeting, say, language, among_online=True)
            lines.append(f"• {meeting.name}{kind}\n   {at}\n   {join}{notes}")
        return examples_note(say) + "\n\n".join(lines) if lines else \
            say("online_none_listed")

    def nearest_meeting(ctx: FactContext) -> Venue | None:
        """The pin on the map: the nearest meeting for the person themselves whose exact
        place is known (a Family & Friends meeting, or a town's centre, is not pinned)."""
        zone = _zone(ctx, default_zone)
        meeting = next((m for m, _ in results(ctx.answers, ctx.now, zone)
                        if m.for_oneself and not m.approximate), None)
        if meeting is None:
            return None
        assert meeting.latitude is not None and meeting.longitude is not None
        return Venue(meeting.latitude, meeting.longitude, meeting.name,
                     ", ".join(p for p in (meeting.location, meeting.address) if p))

    def examples_note(say: Say) -> str:
        """Said above the meetings when they are the made-up examples that ship with the
        bot (no list configured): nobody should set off for one."""
        shown = index.meetings  # the examples are used only when no list is configured,
        # never mixed with one: the first meeting says which (50,000 need not be looked at)
        return say("meetings_examples_note") + "\n\n" \
            if shown and EXAMPLE.name in shown[0].source else ""

    def helpline_text(ctx: FactContext) -> str:
        """Each line offered, open ones first: who, the number, whether it is open now (in
        the person's time), the website."""
        zone = _zone(ctx, default_zone)
        shown = sorted(lines_for(ctx.answers), key=lambda line: not line.open_at(ctx.now))
        several = len(lines) > 1
        texts = []
        for line in shown:
            about = f" ({ctx.text(f'helpline_for_{line.topic}')})" \
                if several and line.topic != "general" else ""
            reach = " · ".join(p for p in (line.phone, line.website) if p)
            texts.append(f"**{line.name}**{about}: {reach}\n"
                         f"{line.status(ctx.now, zone, ctx.text, ctx.locale)}")
        return Marked("\n\n".join(texts))  # the lines' names in bold

    reg.facts["meetings_nearby"] = meetings_nearby
    reg.facts["online_meetings"] = online_meetings
    reg.facts["online_when"] = online_when
    reg.facts["helpline"] = helpline_text
    reg.venues["nearest_meeting"] = nearest_meeting

    @reg.condition("no_helpline")
    def no_helpline(turn: Turn, args: Any) -> bool:
        """True when the operator has not given a helpline (config: helplines)."""
        return not lines

    @reg.action("helpline_for", check=check_none, saves=lambda a: ["helpline.topics"])
    def helpline_for(turn: Turn, args: None) -> None:
        """What the line should be for, from the words that opened the dialog ("is there a
        gambling helpline", "my son drinks") and the focus given at the start: those lines
        are offered first, in helpline.topics."""
        turn.answers["helpline.topics"] = sorted(topics_of(turn))

    def check_place(args: Any, ctx: Any) -> list[str]:
        if not isinstance(args, dict) or set(args) != {"place"}:
            return ["expects {place: answer key}"]
        return []

    def _has_meetings(place: Any) -> bool:
        return bool(index.nearest(place.latitude, place.longitude, count=1,
                                  within_km=WITHIN_KM))

    def where_the_meetings_are(places: list[Any]) -> list[Any]:
        """Places of that name, those with meetings near them first (a feed of Irvine,
        California's meetings means that Irvine, not Scotland's), then as found (the
        operator's country first, then by population)."""
        return sorted(places, key=lambda p: not _has_meetings(p))

    @reg.action("find_meetings", check=check_place,
                saves=lambda a: ["meeting.status", "meeting.where", "meeting.lat",
                                 "meeting.lon", "meeting.options", "meeting.page",
                                 "meeting.when_words"])
    def find_meetings(turn: Turn, args: dict[str, str]) -> None:
        """Look up the place in an answer (a shared location or a place name) and set
        meeting.status: found, none (no in-person meeting within 40 km), ambiguous
        (meeting.options lists the candidates) or unknown."""
        given = turn.answers.get(args["place"])
        answers = turn.answers
        answers["meeting.page"] = 0
        if isinstance(given, dict) and "latitude" in given:
            # "you" and "the place you shared" are stored values, read in the person's
            # language through the translation's values: ("you": "ti").
            lat, lon, where = float(given["latitude"]), float(given["longitude"]), "you"
        elif (coded := index.postcode(str(given or ""))) is not None:
            lat, lon, where = coded
        else:
            places = where_the_meetings_are(places_named(str(given or ""), country,
                                                         turn.words or Words()))
            # Ambiguous only among the places with meetings near them, or, with none
            # near any, among those in the operator's country.
            near = [p for p in places if _has_meetings(p)]
            same = [p for p in (near or places) if p.name == places[0].name and
                    (near or p.country == country)] if places else []
            if not places:
                answers["meeting.status"] = "unknown"
                return
            if len(same) > 1 and "," not in str(given):
                answers["meeting.status"] = "ambiguous"
                answers["meeting.options"] = items([f'"{p.label}"' for p in same[:3]],
                                                   turn.locale, "or")
                return
            best = places[0]
            lat, lon, where = best.latitude, best.longitude, best.label
        answers["meeting.lat"], answers["meeting.lon"], answers["meeting.where"] = lat, lon, where
        found = index.nearest(lat, lon, count=1, within_km=WITHIN_KM)
        answers["meeting.status"] = "found" if found else "none"
        if found:
            answers["meeting.when_words"] = heading(answers, turn)

    def heading(answers: Any, turn: Turn) -> str:
        """What the list is, after "Meetings near Leeds": what was asked for ("tonight",
        "women's"), or that none are and these are the next ones."""
        zone = ZoneInfo(turn.timezone) if turn.timezone else default_zone
        shown = [m for m, _ in results(answers, turn.now, zone)]
        said = ""
        kind = answers.get("meeting.type")
        if kind:
            name = turn.text(f"meetings_for_{str(kind).lower()}") if kind in FOR \
                else type_name(str(kind), turn.text)
            said = f", {name}" if all(_of_kind(m, str(kind)) for m in shown) else \
                f" ({turn.text('heading_none_of_kind', kind=name)})"
        when = answers.get("meeting.when")
        if when:
            start, end = window(str(when), turn.now.astimezone(zone))
            timely = any(start <= next_start(m, start) < end for m in shown)
            named = words(str(when), turn.text, turn.locale)
            said += f" {named}" if timely else \
                f" ({turn.text('heading_none_when', when=named)})"
        return said

    @reg.action("place_in_text", check=check_in_save,
                saves=lambda a: [a["save"], "meeting.when", "meeting.when_words",
                                 "meeting.type", "meeting.online"])
    def place_in_text(turn: Turn, args: dict[str, str]) -> None:
        """The place named in a request ("meetings in Leeds", "any meeting near Newport,
        Wales?"): saved when it is a known place, else the key is cleared. The time asked
        about ("tonight", "on Saturday") goes in meeting.when (and, in words, in
        meeting.when_words for the heading)."""
        text = str(turn.answers.get(args["in"], ""))
        when = when_asked(text, turn.words or Words())
        turn.answers["meeting.when"] = when or ""
        said = turn.words or Words()
        kind = next((code for code, name in ASKED_TYPES.items()
                     if whole(said.phrases(WORDS, name)).search(text)), "")
        turn.answers["meeting.type"] = kind
        online = whole(said.phrases(WORDS, "online")).search(text)
        turn.answers["meeting.online"] = "yes" if online else ""
        turn.answers["meeting.when_words"] = \
            f" {words(when, turn.text, turn.locale)}" if when else ""
        place = place_in_request(without_when(text, said).strip(), country, said)
        if place:
            turn.answers[args["save"]] = place
        else:
            turn.answers.pop(args["save"], None)

    @reg.action("remember_place", check=check_none,
                saves=lambda a: ["meeting.saved_where", "meeting.saved_lat", "meeting.saved_lon"])
    def remember_place(turn: Turn, args: None) -> None:
        """Keep the place just searched, because the person asked to (a button)."""
        a = turn.answers
        where = a.get("meeting.where")
        a["meeting.saved_where"] = "the place you shared" if where == "you" else where
        a["meeting.saved_lat"], a["meeting.saved_lon"] = a.get("meeting.lat"), a.get("meeting.lon")

    @reg.action("use_saved_place", check=check_none,
                saves=lambda a: ["meeting.status", "meeting.where", "meeting.lat", "meeting.lon",
                                 "meeting.page", "meeting.when_words"])
    def use_saved_place(turn: Turn, args: None) -> None:
        """Search near the remembered place, as find_meetings does for a typed one."""
        a = turn.answers
        lat, lon = float(a["meeting.saved_lat"]), float(a["meeting.saved_lon"])
        a["meeting.lat"], a["meeting.lon"], a["meeting.where"] = lat, lon, a["meeting.saved_where"]
        a["meeting.page"] = 0
        found = index.nearest(lat, lon, count=1, within_km=WITHIN_KM)
        a["meeting.status"] = "found" if found else "none"
        if found:
            a["meeting.when_words"] = heading(a, turn)

    @reg.action("more_meetings", check=check_none, saves=lambda a: ["meeting.page"])
    def more_meetings(turn: Turn, args: None) -> None:
        """The next page of nearby meetings."""
        turn.answers["meeting.page"] = int(turn.answers.get("meeting.page", 0) or 0) + 1

    @reg.condition("more_meetings")
    def has_more(turn: Turn, args: Any) -> bool:
        """True while there are more nearby meetings to show than shown so far."""
        page = int(turn.answers.get("meeting.page", 0) or 0)
        zone = ZoneInfo(turn.timezone) if turn.timezone else default_zone
        return len(results(turn.answers, turn.now, zone)) > (page + 1) * PAGE

    @reg.condition("helpline_open")
    def helpline_open(turn: Turn, args: Any) -> bool:
        """True while one of the helplines offered to the person is open."""
        return any(line.open_at(turn.now) for line in lines_for(turn.answers))
