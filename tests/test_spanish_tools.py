"""A Spanish-speaking person reads the tools' own sentences in Spanish, with Spanish dates,
times and numbers (Babel), and the tools understand the words they type (issue 16.3):
through the engine, as a person whose app is in Spanish."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path

from bot.clock import FakeClock
from bot.config import HelplineConfig
from bot.dialog.engine import Engine
from bot.dialog.loader import load_catalog
from bot.dialog.registry import Registry
from bot.dialog.spec import Catalog
from bot.storage.sqlite import SqliteStore
from bot.testing import ChatClient
from bot.tools import default_registry

LEEDS = (HelplineConfig(name="Leeds Recovery Line", phone="0113 496 0000",
                        hours="Mon-Fri 09:00-17:00"),)
FRIDAY_NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@functools.cache
def catalog(dialogs_dir: Path) -> Catalog:
    """Loaded once: the tests differ in their registry's configuration, not their dialogs."""
    return load_catalog(dialogs_dir, default_registry())


def chat(dialogs_dir: Path, when: datetime, registry: Registry) -> ChatClient:
    engine = Engine(catalog(dialogs_dir), registry, SqliteStore(":memory:"), FakeClock(when))
    return ChatClient(engine=engine, language="es")


def spanish(dialogs_dir: Path, when: datetime = FRIDAY_NOON,
            timezone: str = "Europe/London") -> ChatClient:
    return chat(dialogs_dir, when, default_registry(helplines=LEEDS, timezone=timezone))


def test_helpline_hours_in_spanish(dialogs_dir: Path) -> None:
    open_chat = spanish(dialogs_dir, datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    open_chat.send("/helpline")
    assert "Leeds Recovery Line: 0113 496 0000\nAbierto ahora, hasta las 17:00" in \
        open_chat.text
    closed = spanish(dialogs_dir, datetime(2026, 11, 28, 22, 0, tzinfo=UTC))  # Saturday
    closed.send("/helpline")
    assert "Cerrado ahora, abre el lunes a las 9:00" in closed.text
    # Someone in New York reads the hours in their own time, and is told so.
    in_london = (HelplineConfig(name="Leeds Recovery Line", phone="0113 496 0000",
                                hours="Mon-Fri 09:00-17:00", timezone="Europe/London"),)
    far = chat(dialogs_dir, datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
               default_registry(helplines=in_london, timezone="America/New_York"))
    far.send("/helpline")
    assert "Abierto ahora, hasta las 12:00 (tu hora)" in far.text


def test_a_meeting_list_in_spanish(dialogs_dir: Path) -> None:
    chat = spanish(dialogs_dir)
    chat.send("/meeting")
    chat.share_location(51.5074, -0.1278)
    listing = chat.texts[0]
    assert listing.startswith("Reuniones cerca de ti")
    assert "Estas reuniones son ejemplos inventados" in listing
    # Spanish decimals, day and month names; the meeting's language is named (it isn't
    # the person's), "English" is not said to an English reader (tests/test_meetings.py).
    assert "1. SMART Recovery Westminster (0,6 km) · Abierta, En inglés\n" \
           "   Próxima: lun 30 nov, 18:30-20:00" in listing
    assert "híbrida: en persona o en línea" in listing
    chat.press("Reuniones en línea")
    assert chat.texts[0].startswith("Las próximas reuniones en línea")
    assert "vie 27 nov, 12:30-13:30 (tu hora)" in chat.text


def test_when_a_meeting_is_wanted_read_and_said_in_spanish(dialogs_dir: Path) -> None:
    from bot.dialog.render import fill
    from bot.meetings.when import when_asked, without_when, words

    lang = spanish(dialogs_dir).engine.catalog.language("es")
    typed = lang.understanding.words
    assert [when_asked(t, typed) for t in (
        "¿hay alguna reunión esta noche?", "esta manana", "el Sábado", "mañana",
        "ahora mismo", "mañana por la mañana", "reuniones en Sevilla")] == [
        "tonight", "morning", "saturday", "tomorrow", "now", "tomorrow", None]
    assert without_when("reuniones en Sevilla el sábado", typed).strip() == \
        "reuniones en Sevilla"

    def say(key: str, **values: object) -> str:
        return fill(lang.texts[key], values, escape=False)
    assert words("saturday", say, "es") == "el sábado"
    assert words("tonight", say, "es") == "esta noche"


def test_progress_summary_in_spanish(dialogs_dir: Path) -> None:
    chat = spanish(dialogs_dir)
    chat.send("/progress")
    assert chat.texts[0].startswith(
        "Registros diarios en los últimos 30 días: 0\nDías que fueron como querías: 0\n"
        "Racha actual de días buenos: 0 (la más larga: 0)\nGanas que pasaron sin consumir: 0")


def test_the_progress_chart_speaks_spanish(dialogs_dir: Path) -> None:
    from bot.tools.progress import chart_data

    data = chart_data([], FRIDAY_NOON.date(), lambda key, **v: f"<{key}>", "es")
    assert data["language"] == "es" and data["words"]["chart_title"] == "<chart_title>"
    catalog_chat = spanish(dialogs_dir)
    texts = catalog_chat.engine.catalog.language("es").texts
    assert texts["chart_title"].format(days=30) == "Tus últimos 30 días"


def test_reminder_confirmation_and_words_in_spanish(dialogs_dir: Path) -> None:
    chat = spanish(dialogs_dir, timezone="Europe/Madrid")
    chat.send("/reminder 8 de la tarde Europe/Madrid")
    assert "20:00 (Europe/Madrid)" in chat.text and "hoy a las 20:00" in chat.text
    chat.send("/reminder")
    assert chat.texts[0] == "Tu registro diario: todos los días a las 20:00 (Europe/Madrid)."
    chat.send("/reminder apagar")
    chat.send("/reminder")
    assert chat.texts[0] == "Tu registro diario: desactivado."


def test_the_absolute_words_of_a_belief_in_spanish(dialogs_dir: Path) -> None:
    chat = spanish(dialogs_dir)
    chat.send("/abc")
    chat.send("Me equivoqué en una reunión del trabajo")
    chat.send("Debo hacerlo siempre bien; si me equivoco es horrible y nadie me respeta")
    assert chat.answers.get("abc.absolutes") == '"debo", "siempre", "horrible", "nadie"'


def test_urge_log_barriers_and_export_in_spanish(dialogs_dir: Path) -> None:
    chat = spanish(dialogs_dir)
    chat.send("/urges")
    assert "(todavía no hay nada registrado)" in chat.text
    chat.send("/barriers")
    assert "• Un bloqueo de apuestas en tu tarjeta del banco\n• La autoexclusión\n" \
           "• Una app de bloqueo" in chat.text
    chat.send("/export")
    assert "• horas del registro diario: 0" in chat.text


def test_crisis_lines_in_spanish_for_spain(dialogs_dir: Path) -> None:
    """The table's Spanish labels for Spain's lines, and Spain's name in Spanish."""
    from bot.safety.lines import DEFAULT, load_lines
    from bot.tools.safety import find_country

    chat = spanish(dialogs_dir, timezone="Europe/Madrid")
    facts = chat.engine.facts
    assert find_country("España", {}) == "ES"  # an alias, without the table
    from bot.dialog.registry import FactContext
    context = FactContext(chat.engine.store, chat.user_id, chat.clock.now(), {},
                          timezone="Europe/Madrid",
                          translation=chat.engine.catalog.language("es"))
    numbers = facts["crisis_numbers"](context)
    assert "• Emergencias: 112" in numbers
    assert "• Línea 024 de atención a la conducta suicida (24 h, gratuita): 024" in numbers
    assert facts["crisis_country"](context) == "España"
    assert "• Busca una línea de ayuda en tu país: findahelpline.com" in \
        facts["crisis_text"](context)
    # A line whose number has words gives them in Spanish too.
    assert load_lines()[DEFAULT].emergency.in_language("es") == (
        "Emergencias", "112 o el número de emergencias de tu país")
