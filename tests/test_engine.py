"""The engine: transitions, conditions, actions, answers in templates, follow-ups,
resume over the same database, users kept apart, and bad events answered politely."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.dialog.engine import Engine
from bot.dialog.loader import load_catalog
from bot.events import Incoming
from bot.nlu.intents import Guess
from bot.nlu.understanding import Understanding
from bot.storage.sqlite import SqliteStore
from bot.testing import ChatClient
from bot.tools import default_registry
from bot.tools.checkins import checkins_of

URGE = textwrap.dedent("""\
    dialog: urge
    title: An urge
    command: urge
    description: Cope with an urge
    intents: [craving]
    start: rate
    states:
      rate:
        do: [{clear: [urge.after]}]
        say: How strong is the urge, 0 to 10?
        expect: number
        range: [0, 10]
        save: urge.before
        next:
          - {if: {at_least: {urge.before: 7}}, to: strong}
          - {to: pick}
      strong:
        say: That's a strong one. You don't have to act on it.
        next: pick
      pick:
        say: Which tool would you like to try?
        on: {craving: strong}
        buttons:
          - {label: Put it off, to: delay}
          - {label: "Where am I?", to: where}
          - {label: Note it, to: note}
      delay:
        say: No decision for 15 minutes. I'll check back.
        do: [{follow_up: {after: 15m, go: recheck}}]
        end: true
      recheck:
        say: It's been 15 minutes. How strong is it now (it was {urge.before})?
        expect: number
        range: [0, 10]
        save: urge.after
        next: compare
      compare:
        say: It went from {urge.before} to {urge.after}. **Well done** for riding it out.
        do: [{journal: {kind: urge, keys: [urge.before, urge.after]}}]
        end: true
      where:
        say: Share your location, please.
        expect: location
        save: place
        next: thanks
      thanks:
        say: Thanks, got it.
        end: true
      note:
        say: What set it off?
        expect: text
        save: trigger
        next: noted
      noted:
        say: "Noted: {trigger|nothing}."
        end: true
    """)


HELP = textwrap.dedent("""\
    dialog: help
    command: help
    description: What I can do
    start: menu
    states:
      menu:
        say: How can I help?
        buttons:
          - {label: "Start from the beginning", to: restart}
          - {label: "Bye", to: bye}
      restart:
        say: Okay, let's start again.
        do: [{start: start}]
        end: true
      bye:
        say: Bye.
        end: true
    """)

START = textwrap.dedent("""\
    dialog: start
    command: start
    description: Start here
    start: welcome
    states:
      welcome:
        say: Welcome.
        buttons:
          - {label: "Menu", to: menu}
      menu:
        say: Here's the menu.
        do: [{start: help}]
        end: true
    """)


@pytest.fixture
def folder(write_dialogs) -> Path:
    return write_dialogs({"urge.yaml": URGE, "help.yaml": HELP, "start.yaml": START})


class Keywords(Understanding):
    """A stand-in for the trained model: "want a drink" means a craving, for sure."""

    def intent(self, text: str) -> Guess:
        return Guess("craving", 0.99) if "want a drink" in text.lower() else Guess(None, 0.0)


@pytest.fixture
def chat(folder: Path) -> ChatClient:
    return ChatClient(folder, understanding=Keywords(None, None))


def test_number_answer_and_condition_branch(chat: ChatClient) -> None:
    chat.send("/urge")
    assert chat.texts == ["How strong is the urge, 0 to 10?"]
    chat.send("8")
    assert chat.texts == ["That's a strong one. You don't have to act on it.",
                          "Which tool would you like to try?"]
    assert chat.buttons == ["Put it off", "Where am I?", "Note it"]
    assert chat.answers["urge.before"] == 8
    assert chat.position == ("urge", "pick")


def test_weak_urge_skips_the_strong_branch(chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("3")
    assert chat.texts == ["Which tool would you like to try?"]


@pytest.mark.parametrize("typed", ["eleven", "11", "-1", "", "7 or 8"])
def test_out_of_range_number_asks_again_and_keeps_the_step(chat: ChatClient, typed: str) -> None:
    chat.send("/urge")
    chat.send(typed)
    assert chat.texts == ["Please send a number from 0 to 10."]
    assert chat.position == ("urge", "rate")


@pytest.mark.parametrize("typed,value", [("7/10", 7), (" 6 ", 6), ("4,5", 4.5), ("10", 10)])
def test_numbers_in_the_ways_people_type_them(chat: ChatClient, typed: str, value: float) -> None:
    chat.send("/urge")
    chat.send(typed)
    assert chat.answers["urge.before"] == value


def test_follow_up_fires_after_the_delay_and_uses_earlier_answers(chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("6")
    chat.press("Put it off")
    assert chat.texts == ["No decision for 15 minutes. I'll check back."]
    assert chat.position == (None, None)
    assert chat.wait(minutes=14) == []
    chat.wait(minutes=1)
    assert chat.texts == ["It's been 15 minutes. How strong is it now (it was 6)?"]
    chat.send("2")
    assert chat.texts == ["It went from 6 to 2. Well done for riding it out."]
    assert "<b>Well done</b>" in chat.replies[0].text
    entries = chat.engine.store.records(chat.user_id, "urge")
    assert [(e.kind, e.data) for e in entries] == [("urge", {"urge.before": 6, "urge.after": 2})]
    assert chat.wait(hours=1) == []  # fired once only
    chat.send("/urge")
    assert "urge.after" not in chat.answers  # cleared by the action on entering `rate`


def test_follow_up_interrupts_another_dialog(chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("5")
    chat.press("Put it off")
    chat.send("/help")
    chat.wait(minutes=15)
    assert chat.position == ("urge", "recheck")


def test_cancel_drops_pending_follow_ups(chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("5")
    chat.press("Put it off")
    chat.send("/help")
    chat.send("/cancel")
    assert chat.texts == ["Okay, we've stopped there, and I won't check back on it later. "
                          "Send /help whenever you want to pick something up."]
    assert chat.wait(minutes=30) == []


def test_cancel_after_a_dialog_ended_still_drops_its_promised_check_back(
        chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("5")
    chat.press("Put it off")  # "I'll check back": the dialog has ended, the promise has not
    assert chat.position == (None, None)
    chat.send("/cancel")
    assert "won't check back" in chat.text
    assert chat.wait(minutes=30) == []
    chat.send("/cancel")
    assert chat.texts == ["There's nothing to stop right now. Send /help to see what I can do."]


def test_follow_up_missed_beyond_the_grace_period_is_skipped(folder: Path) -> None:
    chat = ChatClient(folder)
    chat.send("/urge")
    chat.send("5")
    chat.press("Put it off")
    assert chat.wait(hours=2) == []  # the engine's default grace is one hour
    assert chat.engine.store.pending_followups() == []


def test_answers_are_escaped_in_messages(chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("3")
    chat.press("Note it")
    chat.send("<b>boss</b> & co")
    assert chat.replies[0].text == "Noted: &lt;b&gt;boss&lt;/b&gt; &amp; co."
    assert chat.texts == ["Noted: <b>boss</b> & co."]


def test_intent_in_a_state_routes_by_on(chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("3")
    chat.send("I want a drink")  # not a button: the state's `on` intents are tried
    assert chat.texts[0] == "That's a strong one. You don't have to act on it."
    assert chat.position == ("urge", "pick")


def test_a_text_answer_is_never_taken_for_an_intent(chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("3")
    chat.press("Note it")
    chat.send("I want a drink")
    assert chat.texts == ["Noted: I want a drink."]


def test_intent_opens_a_dialog_from_idle(chat: ChatClient) -> None:
    chat.send("I really want a drink right now")
    assert chat.texts == ["How strong is the urge, 0 to 10?"]


def test_location_answer(chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("2")
    chat.press("Where am I?")
    assert chat.replies[-1].expect == "location"
    chat.share_location(51.5, -0.12)
    assert chat.texts == ["Thanks, got it."]
    assert chat.answers["place"] == {"latitude": 51.5, "longitude": -0.12}


def test_a_typed_place_answers_a_location_question(chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("2")
    chat.press("Where am I?")
    chat.send("Leeds")
    assert chat.texts == ["Thanks, got it."]
    assert chat.answers["place"] == "Leeds"


def test_buttons_by_typed_label_or_number(chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("2")
    chat.send("note it")
    assert chat.position == ("urge", "note")
    chat.send("/urge")
    chat.send("2")
    chat.send("1")
    assert chat.position == (None, None)  # "Put it off" ends the dialog


def test_free_text_where_a_button_is_expected(chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("2")
    chat.send("hmm")
    assert chat.texts[0].startswith("I didn't quite catch which one you meant.")
    assert chat.buttons == ["Put it off", "Where am I?", "Note it"]
    chat.send("blah")  # twice: the menu, and how to stop
    assert "/cancel" in chat.texts[0] and chat.position == ("help", "menu")


def test_stale_and_forged_buttons_never_move_the_user(chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("2")
    old = chat.replies[-1].buttons[2].data
    chat.press("Note it")
    for data in (old, "urge|pick|9", "help|menu|0", "nonsense", "urge|note|0|x", ""):
        chat.press_data(data)
        assert chat.texts == ["That button belongs to an earlier message.", "What set it off?"]
        assert chat.position == ("urge", "note")


def test_stale_button_with_no_dialog_going_on(chat: ChatClient) -> None:
    chat.press_data("help|menu|0")
    assert chat.texts[0] == "That button belongs to an earlier message."
    assert chat.texts[1].startswith("I'm not sure I understood that.")
    assert chat.position == (None, None)


def test_help_and_cancel_work_from_any_state(chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("/help")
    assert chat.position == ("help", "menu")
    chat.send("/cancel")
    assert chat.position == (None, None)
    chat.send("/cancel")
    assert chat.texts == ["There's nothing to stop right now. Send /help to see what I can do."]


def test_unknown_command_and_plain_text_get_a_reply(chat: ChatClient) -> None:
    chat.send("/nosuch")
    assert chat.texts == ["I don't know /nosuch. Tap /help to see what I can do."]
    chat.send("hello there")
    assert chat.texts[0].startswith("I'm not sure I understood that.")
    chat.send("/HELP@SmartCoachBot")
    assert chat.position == ("help", "menu")


def test_start_action_opens_another_dialog(chat: ChatClient) -> None:
    chat.send("/help")
    chat.press("Start from the beginning")
    assert chat.texts[0] == "Okay, let's start again."
    assert chat.position == ("start", "welcome")


def test_two_users_interleaved_do_not_see_each_other(chat: ChatClient) -> None:
    other = chat.as_user(2)
    chat.send("/urge")
    other.send("/urge")
    chat.send("9")
    other.send("1")
    chat.press("Note it")
    other.press("Note it")
    chat.send("my boss")
    other.send("a party")
    assert chat.texts == ["Noted: my boss."]
    assert other.texts == ["Noted: a party."]
    assert chat.answers["urge.before"] == 9 and other.answers["urge.before"] == 1


def test_a_failing_action_saves_nothing_and_apologises(folder: Path) -> None:
    registry = default_registry()
    original = registry.actions["journal"]

    def broken(turn, args):  # type: ignore[no-untyped-def]
        raise ValueError("disk on fire")

    registry.actions["journal"] = original.__class__(broken, original.check, original.targets)
    store = SqliteStore(":memory:")
    engine = Engine(load_catalog(folder, registry), registry, store, FakeClock())
    chat = ChatClient(engine=engine)
    chat.send("/urge")
    chat.send("4")
    chat.press("Put it off")
    chat.wait(minutes=15)
    chat.send("1")
    assert chat.texts == ["Sorry, something went wrong on my side. Please try again in a moment."]
    assert chat.position == ("urge", "recheck")  # nothing of the failed step was saved
    assert "urge.after" not in chat.answers


def test_resume_on_a_fresh_engine_over_the_same_database(folder: Path, tmp_path: Path) -> None:
    db = tmp_path / "coach.db"
    registry = default_registry()
    first = ChatClient(engine=Engine(load_catalog(folder, registry), registry, SqliteStore(db),
                                     FakeClock()))
    first.send("/urge")
    first.send("9")
    first.press("Note it")
    first.engine.store.close()

    engine = Engine(load_catalog(folder, registry), registry, SqliteStore(db), FakeClock())
    resumed = engine.resume(1)
    assert [r.text for r in resumed] == ["Welcome back. Here's where we left off:",
                                         "What set it off?"]
    second = ChatClient(engine=engine)
    second.send("stress at work")
    assert second.texts == ["Noted: stress at work."]
    assert engine.resume(1) == []  # the dialog has ended: nothing to resume


def test_follow_up_survives_a_restart(folder: Path, tmp_path: Path) -> None:
    db = tmp_path / "coach.db"
    registry = default_registry()
    clock = FakeClock()
    first = ChatClient(engine=Engine(load_catalog(folder, registry), registry, SqliteStore(db),
                                     clock))
    first.send("/urge")
    first.send("5")
    first.press("Put it off")
    first.engine.store.close()
    second = ChatClient(engine=Engine(load_catalog(folder, registry), registry, SqliteStore(db),
                                      clock))
    second.wait(minutes=15)
    assert second.texts == ["It's been 15 minutes. How strong is it now (it was 5)?"]


def test_the_same_timer_event_twice_replies_once(chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("5")
    chat.press("Put it off")
    chat.clock.advance(__import__("datetime").timedelta(minutes=15))
    (followup,) = chat.engine.store.pending_followups()
    first = chat.engine.handle(Incoming.timer(1, followup.id))
    second = chat.engine.handle(Incoming.timer(1, followup.id))
    assert len(first) == 1 and second == []
    # Another user's event can never fire my follow-up.
    chat.send("/urge")
    chat.send("5")
    chat.press("Put it off")
    chat.clock.advance(__import__("datetime").timedelta(minutes=15))
    (mine,) = chat.engine.store.pending_followups()
    assert chat.engine.handle(Incoming.timer(2, mine.id)) == []
    assert chat.engine.store.pending_followups() == [mine]


def test_machines_are_shared_and_keep_no_turn(chat: ChatClient) -> None:
    """One machine per dialog with one long-lived model: no person's Turn is added to it
    (transitions binds every trigger to a model added: 53% of a step) or left in it."""
    for user in range(1, 30):
        chat.as_user(user).send("/urge")
    for machine in chat.engine.machines.values():
        assert len(machine.machine.models) == 1
        assert machine.machine.models[0].turn is None  # let go after each event


def test_command_menu_lists_exactly_the_commands_that_work(chat: ChatClient) -> None:
    menu = chat.engine.catalog.commands()
    assert menu == [("help", "What I can do"), ("start", "Start here"),
                    ("urge", "Cope with an urge"), ("cancel", "Stop what we're doing")]
    for command, _ in menu:
        chat.send(f"/{command}")
        assert not chat.texts[0].startswith("I don't know")


def test_a_store_that_fails_to_load_gets_an_apology_not_a_crash(
        folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    class Broken(SqliteStore):
        def load_user(self, user_id: int):  # type: ignore[no-untyped-def]
            raise OSError("database is locked")

    registry = default_registry()
    engine = Engine(load_catalog(folder, registry), registry, Broken(":memory:"), FakeClock())
    replies = engine.handle(Incoming.message(5, "my secret words"))
    assert [r.text for r in replies] == [
        "Sorry, something went wrong on my side. Please try again in a moment."]
    assert "user 5, text event" in caplog.text
    assert "my secret words" not in caplog.text  # texts never reach the logs


def test_a_user_who_blocked_the_bot_gets_no_follow_ups_until_they_write(chat: ChatClient) -> None:
    chat.send("/urge")
    chat.send("5")
    chat.press("Put it off")
    chat.engine.handle(Incoming.blocked(chat.user_id))  # Telegram said 403: blocked
    assert chat.wait(minutes=15) == []
    assert chat.engine.store.pending_followups() == []  # dropped, not kept for later
    chat.send("/help")
    assert chat.engine.store.load_user(chat.user_id).active is True


def test_a_nudge_never_makes_a_blocked_person_active_again(chat: ChatClient) -> None:
    chat.send("/help")
    assert chat.engine.handle(Incoming.blocked(chat.user_id)) == []
    assert chat.engine.handle(Incoming.nudge(chat.user_id)) == []
    assert chat.engine.store.load_user(chat.user_id).active is False


def test_a_block_from_someone_never_heard_from_stores_nothing(chat: ChatClient) -> None:
    assert chat.engine.handle(Incoming.blocked(4242)) == []
    assert chat.engine.store.load_user(4242).known is False


def test_a_redelivered_update_is_not_handled_twice(chat: ChatClient) -> None:
    event = replace(Incoming.message(1, "/urge"), update_id=500)
    first = chat.engine.handle(event)
    again = chat.engine.handle(event)
    assert [r.text for r in first] == ["How strong is the urge, 0 to 10?"] and again == []
    assert chat.engine.store.was_handled(500) and not chat.engine.store.was_handled(501)


def test_stickers_and_edits_are_acknowledged_and_the_step_kept(chat: ChatClient) -> None:
    from bot.events import Kind

    chat.send("/urge")
    for kind, text in ((Kind.UNSUPPORTED, "I can only read text for now."),
                       (Kind.EDITED, "I only read new messages.")):
        replies = chat.engine.handle(Incoming.other(1, kind))
        assert replies[0].text.startswith(text)
        assert chat.position == ("urge", "rate")


@pytest.mark.slow  # loads the real dialogs: ~0.6 s
def test_a_second_check_in_the_same_day_keeps_the_first_ones_note(dialogs_dir: Path) -> None:
    """It used to replace the day's check-in, note and all, without a word."""
    chat = ChatClient(dialogs_dir)
    for mood, note in (("4", "walked home the long way"), ("2", "rough evening")):
        chat.send("/checkin")
        chat.press(mood)
        chat.press("5")
        chat.press("Yes")
        chat.send(note)
    [day] = checkins_of(chat.engine.store, chat.user_id, date.min)
    assert day.mood == 2 and day.note == "walked home the long way\nrough evening"
    assert any(r.text.startswith("You'd already checked in today") for r in chat.replies)


COMBINED = textwrap.dedent("""\
    dialog: halt
    command: halt
    description: Check in with yourself
    start: hungry
    states:
      hungry:
        say: Hungry?
        buttons:
          - {label: "Yes", value: "yes"}
          - {label: "No", value: "no"}
        save: hungry
        next: tired
      tired:
        say: Tired?
        buttons:
          - {label: "Yes", value: "yes"}
          - {label: "No", value: "no"}
        save: tired
        next:
          - {if: {all: [{equals: {hungry: "yes"}}, {equals: {tired: "yes"}}]}, to: both}
          - {if: {any: [{equals: {hungry: "yes"}}, {equals: {tired: "yes"}}]}, to: one}
          - {if: {not: {answered: hungry}}, to: one}
          - {to: neither}
      both:
        say: Eat something, then rest.
        end: true
      one:
        say: One thing first.
        end: true
      neither:
        say: Neither.
        end: true
    """)


@pytest.mark.parametrize(("hungry", "tired", "said"), [
    ("Yes", "Yes", "Eat something, then rest."), ("Yes", "No", "One thing first."),
    ("No", "Yes", "One thing first."), ("No", "No", "Neither.")])
def test_all_any_and_not_combine_answers(write_dialogs, hungry: str, tired: str,
                                         said: str) -> None:
    chat = ChatClient(write_dialogs({"halt.yaml": COMBINED}))
    chat.send("/halt")
    chat.press(hungry)
    chat.press(tired)
    assert chat.texts == [said]


MENU_HELP = textwrap.dedent("""\
    dialog: help
    command: help
    description: What I can do
    menu: false
    start: menu
    states:
      menu:
        say: "Pick one. Or: {commands}"
        menu: true
        buttons:
          - {label: "About", to: about}
      about:
        say: A coach.
        end: true
    """)


def tool(name: str, menu: str = "") -> str:
    return textwrap.dedent(f"""\
        dialog: {name}
        title: Try {name}
        command: {name}
        description: The {name} tool
        {menu}
        start: a
        states:
          a:
            say: This is {name}.
            end: true
        """)


def test_the_help_menu_lists_every_dialog_with_a_command_by_itself(write_dialogs) -> None:
    folder = write_dialogs({"help.yaml": MENU_HELP, "halt.yaml": tool("halt", "menu: 5"),
                            "zebra.yaml": tool("zebra"), "apple.yaml": tool("apple"),
                            "secret.yaml": tool("secret", "menu: false")})
    chat = ChatClient(folder)
    chat.send("/help")
    # By `menu:` (halt 5), then the default place by command; `menu: false` left out.
    assert chat.buttons == ["Try halt", "Try apple", "Try zebra", "About"]
    assert chat.texts == ["Pick one. Or: /halt: The halt tool\n/apple: The apple tool\n"
                          "/zebra: The zebra tool\n/help: What I can do\n/secret: The secret tool\n"
                          "/cancel: Stop what we're doing"]
    chat.press("Try zebra")
    assert chat.texts == ["This is zebra."]
    chat.send("/help")
    chat.send("2")  # typed, as on the buttons
    assert chat.texts == ["This is apple."]
    chat.send("/help")
    chat.send("try halt")
    assert chat.texts == ["This is halt."]
    chat.send("/help")
    chat.send("4")  # the step's own button comes after the menu
    assert chat.texts == ["A coach."]


def test_a_value_marked_as_formatting_is_bold_and_still_escaped() -> None:
    from bot.dialog.render import Marked, to_html
    assert to_html("Call {line}", {"line": Marked("**A & B** <line>")}) == \
        "Call <b>A &amp; B</b> &lt;line&gt;"
    assert to_html("You said {said}", {"said": "**A & B**"}) == "You said **A &amp; B**"


def test_the_real_help_menu_is_every_tool_in_its_order(dialogs_dir: Path) -> None:
    """Whatever tools a folder has: the real /help shows each in the menu's order, then
    "About this coach" (the transcripts leave the list to this test, so adding a tool does
    not break them)."""
    chat = ChatClient(dialogs_dir)
    chat.send("/help")
    menu = chat.engine.catalog.menu()
    assert chat.buttons == [d.title for d in menu] + ["About this coach"]
    assert [d.name for d in menu][:3] == ["urge", "lapse", "cba"]
    assert not {"start", "help", "export", "forget"} & {d.name for d in menu}
