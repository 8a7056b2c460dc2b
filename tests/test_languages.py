"""Languages (issue 16): the person's language from their app or /language, kept with them;
every text, button, menu and message in it; translations checked against the source."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.dialog.engine import Engine
from bot.dialog.loader import check_directory, load_catalog
from bot.dialog.render import to_plain
from bot.dialog.spec import Catalog
from bot.dialog.translation import needs_translation
from bot.events import Incoming
from bot.storage.sqlite import SqliteStore
from bot.testing import ChatClient
from bot.tools import default_registry

DIALOGS = Path(__file__).resolve().parent.parent / "dialogs"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(DIALOGS, default_registry())


def chat_with(catalog: Catalog, language: str | None, store: SqliteStore | None = None,
              user_id: int = 1) -> ChatClient:
    engine = Engine(catalog, default_registry(), store or SqliteStore(":memory:"), FakeClock())
    return ChatClient(engine=engine, language=language, user_id=user_id)


def spanish(catalog: Catalog, dialog: str, state: str, index: int = 0) -> str:
    """The start of a Spanish text as the person reads it (before any placeholder)."""
    text = catalog.language("es").say[(dialog, state)][index]
    return to_plain(text.split("{")[0].replace("**", "").replace("*", "")).strip()[:40]


# -- the person's language ----------------------------------------------------------------

@pytest.mark.parametrize("reported", ["es", "es-419", "es-ES", "es-mx", "ES"])
def test_an_app_in_any_spanish_gets_spanish(catalog: Catalog, reported: str) -> None:
    chat = chat_with(catalog, reported)
    chat.send("/start")
    assert chat.texts[0].startswith(spanish(catalog, "start", "welcome"))
    assert chat.engine.store.load_user(1).locale == "es"


@pytest.mark.parametrize("reported", [None, "en-GB", "fr", "pt-BR"])
def test_any_other_language_gets_english(catalog: Catalog, reported: str | None) -> None:
    chat = chat_with(catalog, reported)
    chat.send("/start")
    assert chat.texts[0].startswith("Hi, I'm your SMART coach.")
    assert chat.engine.store.load_user(1).locale == "en"


def test_language_switches_and_back_and_is_kept(catalog: Catalog, tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "bot.db")
    chat = chat_with(catalog, "en-GB", store)
    chat.send("/language")
    assert "English" in chat.texts[0] and chat.buttons == ["English", "Español",
                                                           "Keep it as it is"]
    chat.press("Español")
    assert chat.texts == [to_plain(catalog.language("es").say[("language", "spanish")][0])]
    chat.send("/help")
    assert chat.texts[0].startswith(spanish(catalog, "help", "menu"))
    # A restart, and their app still says English: the choice stands.
    again = chat_with(catalog, "en-GB", SqliteStore(tmp_path / "bot.db"))
    again.send("/help")
    assert again.texts[0].startswith(spanish(catalog, "help", "menu"))
    again.send("/language")
    assert "Español" in again.texts[0]  # "Ahora mismo es Español."
    again.press("English")
    assert again.texts[0].startswith("Okay, I'll speak English from now on.")
    again.send("/help")
    assert again.texts[0].startswith("What would you like to do?")


def test_export_has_the_language_and_forget_keeps_nothing(catalog: Catalog) -> None:
    chat = chat_with(catalog, "es-AR")
    chat.send("/start")
    chat.send("/export")
    document = next(r.document for r in chat.replies if r.document)
    exported = json.loads(document[1])
    assert exported["users"][0]["locale"] == "es"
    chat.send("/forget")
    goodbye_button = chat.buttons[0]
    assert not re.search(r"\b(delete|forget)\b", goodbye_button, re.I)  # in Spanish
    chat.press(goodbye_button)
    assert chat.engine.store.load_user(1).known is False
    # Nothing was kept: whoever writes next is greeted in their app's language.
    chat.language = "en"
    chat.send("/start")
    assert chat.texts[0].startswith("Hi, I'm your SMART coach.")


# -- Spanish everywhere ----------------------------------------------------------------------

def test_every_dialog_has_a_complete_spanish_overlay(catalog: Catalog) -> None:
    es = catalog.language("es")
    for dialog in catalog.dialogs.values():
        assert (DIALOGS / "es" / Path(dialog.file).name).is_file(), dialog.file
        for state in dialog.states.values():
            if state.say:
                said = es.say[(dialog.name, state.name)]
                assert len(said) == len(state.say), (dialog.name, state.name)
            if any(needs_translation(b.label) for b in state.buttons):
                labels = es.labels[(dialog.name, state.name)]
                assert len(labels) == len(state.buttons)
        assert es.words[dialog.name].keys() == dialog.words.keys(), dialog.name
        if dialog.command:
            assert es.menu[dialog.name][1] and es.menu[dialog.name][1] != dialog.description
    assert es.messages.keys() == catalog.messages.keys()
    assert es.texts.keys() == catalog.texts.keys()


def test_buttons_are_typed_in_spanish_too(catalog: Catalog) -> None:
    chat = chat_with(catalog, "es")
    chat.send("/language")
    chat.send("dejarlo como está")
    assert chat.texts == [to_plain(catalog.language("es").say[("language", "kept")][0])]


def test_settings_show_what_each_is_now(catalog: Catalog) -> None:
    chat = chat_with(catalog, "en-IE")
    chat.send("/settings")
    assert chat.buttons[:5] == ["Language: English", "Check-in: off", "Weekly summary: no",
                                "Crisis lines: Ireland", "Meeting place: none"]
    assert chat.buttons[5:] == ["Export my data", "Delete my data", "Done"]
    chat.press("Weekly summary: no")
    chat.press("Yes, every Sunday")
    assert "Weekly summary: yes" in chat.buttons  # back at the menu, changed
    chat.press("Crisis lines: Ireland")
    chat.send("Mexico")
    assert chat.texts[0] == "Done: the crisis numbers are now those for Mexico."
    assert "Crisis lines: Mexico" in chat.buttons
    chat.send("change the language")  # a setting by its name, typed
    assert chat.position == ("language", "choose")
    chat.press("Español")
    chat.send("/settings")
    assert chat.buttons[0] == "Idioma: Español"
    assert chat.buttons[2].startswith("Resumen semanal: ")
    chat.send("el idioma")
    assert chat.position == ("language", "choose")


def test_a_spanish_crisis_reply_has_the_lines_of_their_country(catalog: Catalog) -> None:
    chat = chat_with(catalog, "es-ES")
    chat.send("me quiero matar")
    assert chat.position[0] == "crisis"
    first = chat.texts[0]
    assert "024" in first and "112" in first
    assert first.startswith(spanish(catalog, "crisis", "safety"))
    mexico = chat_with(catalog, "es-MX")
    mexico.send("ya no quiero vivir, me voy a matar")
    assert "911" in mexico.texts[0] and "800 911 2000" in mexico.texts[0]


def test_a_plain_sign_in_english_is_heard_from_a_spanish_speaker(catalog: Catalog) -> None:
    chat = chat_with(catalog, "es")
    chat.send("i want to kill myself")
    assert chat.position[0] == "crisis"
    assert chat.texts[0].startswith(spanish(catalog, "crisis", "safety"))


@pytest.mark.parametrize("idiom", ["me muero de hambre", "esta serie me mata de risa",
                                   "me muero de ganas de ir a la playa"])
def test_spanish_idioms_are_no_alarm(catalog: Catalog, idiom: str) -> None:
    chat = chat_with(catalog, "es")
    chat.send(idiom)
    assert chat.position[0] != "crisis"


def test_spanish_free_text_is_understood(catalog: Catalog) -> None:
    chat = chat_with(catalog, "es")
    chat.send("me están dando unas ganas de tomar…")
    assert chat.position == ("urge", "rate")
    other = chat_with(catalog, "es", user_id=2)
    other.send("busco reuniones por mi zona")
    assert other.position[0] == "meeting"


# -- translations that cannot drift -----------------------------------------------------------

BROKEN = """\
dialog: language
title: Idioma
description: Elegir el idioma
states:
  choose:
    say: "¿En qué idioma? Ahora es {idioma}."
    buttons:
      "English": "English"
      "Espanol": "Español"
  english:
    say: [Okay, Vale]
  spanish:
    say: Vale, ahora te hablo en español, como a cualquier adicto.
  kept:
    say: "{long}"
  nowhere:
    say: Nada
"""


@pytest.mark.slow  # a copy of the dialogs, validated: ~1 s
def test_validate_names_each_translation_fault_with_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "dialogs"
    shutil.copytree(DIALOGS, folder)
    (folder / "es" / "language.yaml").write_text(BROKEN.replace("{long}", "x" * 4100),
                                                  encoding="utf-8")
    (folder / "es" / "values.yaml").unlink()
    feelings = folder / "es" / "feelings.yaml"
    feelings.write_text(re.sub(r"(?m)^  nobody:.*\n", "", feelings.read_text(encoding="utf-8")),
                        encoding="utf-8")
    messages = folder / "es" / "messages.yaml"
    messages.write_text(re.sub(r"(?m)^  stale_button:.*\n", "",
                               messages.read_text(encoding="utf-8")), encoding="utf-8")
    _, problems = check_directory(folder, default_registry())
    shown = [str(p).replace(str(folder) + "/", "") for p in problems]
    lang = "es/language.yaml"

    def reported(where: str, words: str) -> bool:
        return any(s.startswith(where + ":") and words in s for s in shown)

    assert reported(f"{lang}:6", "placeholders differ from the source (without "
                    "{language_name}; with {idioma})"), shown
    assert reported(f"{lang}:7", "missing: button 'Keep it as it is'"), shown
    assert reported(f"{lang}:9", "extra: button 'Espanol' is not in the source"), shown
    assert reported(f"{lang}:11", "say has 2 message(s); the source has 1"), shown
    assert reported(f"{lang}:13", "'adicto'"), shown
    assert reported(f"{lang}:15", "4100 characters; at most 4096"), shown
    assert reported(f"{lang}:16", "extra: state 'nowhere' is not in"), shown
    assert reported("es/values.yaml:1", "missing: no translation of"), shown
    assert any(s.startswith("es/feelings.yaml:") and "missing: words 'nobody'" in s
               for s in shown), shown
    assert any(s.startswith("es/messages.yaml:") and "missing: message 'stale_button'" in s
               for s in shown), shown
    assert len(shown) == 10, shown  # one problem per fault, no follow-on noise


@pytest.mark.slow  # ~1 s
def test_a_language_folder_needs_its_understanding(tmp_path: Path) -> None:
    folder = tmp_path / "dialogs"
    shutil.copytree(DIALOGS, folder)
    shutil.copytree(folder / "es", folder / "fr")
    _, problems = check_directory(folder, default_registry())
    missing = {Path(p.file).relative_to(folder).as_posix() for p in problems
               if "missing:" in p.message and "'fr' translation" in p.message}
    assert missing == {"crisis/fr.yaml", "intents/fr.yaml", "words/fr.yaml"}


def test_the_source_language_needs_no_folder(tmp_path: Path, catalog: Catalog) -> None:
    assert set(catalog.languages) == {"en", "es"}
    assert catalog.pick_language("es-419") == "es" and catalog.pick_language("de") == "en"
    engine = Engine(catalog, default_registry(), SqliteStore(":memory:"), FakeClock())
    replies = engine.handle(replace(Incoming.message(5, "hola"), language="es"))
    assert replies and engine.store.load_user(5).locale == "es"


def test_a_meeting_request_in_spanish_names_its_place_kind_and_time(catalog: Catalog) -> None:
    chat = chat_with(catalog, "es-ES")
    chat.send("hay reuniones de mujeres en el centro de Madrid esta noche?")
    assert chat.answers["meeting.type"] == "W" and chat.answers["meeting.when"] == "tonight"
    assert chat.position == ("meeting", "none_near")  # the example meetings are in England
    assert "Madrid" in chat.texts[0]
    online = chat_with(catalog, "es", user_id=2)
    online.send("reuniones en línea ahora")
    assert online.position == ("meeting", "online")
    assert online.texts[0].startswith("Reuniones en línea ahora")
