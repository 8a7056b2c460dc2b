"""End to end through the real python-telegram-bot client and the Bot API emulator."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import build_app
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.sender import ChatPacer
from bot.config import (
    DialogsConfig,
    StorageConfig,
    TelegramConfig,
    WebhookConfig,
    load_config,
)
from bot.events import Incoming
from bot.storage.sqlite import SqliteStore
from tests.emulator import BotApiEmulator

pytestmark = pytest.mark.slow  # the real client against the emulator, a bot built per test: ~25 s

ROOT = Path(__file__).resolve().parent.parent

PLACE = """\
dialog: place
title: Where are you?
command: place
description: Share where you are
start: ask
states:
  ask:
    say: Where are you right now?
    expect: location
    save: place
    next: thanks
  thanks:
    say: Thanks, I've got your location.
    end: true
"""


PLACE_ES = """\
dialog: place
title: ¿Dónde estás?
description: Compartir dónde estás
states:
  ask:
    say: ¿Dónde estás ahora mismo?
  thanks:
    say: Gracias, ya tengo tu ubicación.
"""


def person(bot: TelegramChannel, chat_id: int) -> int:
    """The App's id for the person Telegram knows as chat_id."""
    return bot.app.store.person("telegram", str(chat_id))


@pytest.fixture
def dialogs(tmp_path: Path) -> Path:
    folder = tmp_path / "dialogs"
    shutil.copytree(ROOT / "dialogs", folder)
    (folder / "place.yaml").write_text(PLACE)
    (folder / "es" / "place.yaml").write_text(PLACE_ES, encoding="utf-8")
    return folder


def make_channel(emulator: BotApiEmulator, tmp_path: Path, dialogs: Path,
                 request_timeout: float = 5.0, **telegram: object) -> TelegramChannel:
    config = load_config(None, env={})
    tg = TelegramConfig(token=emulator.token, api_base_url=emulator.base_url,
                        api_base_file_url=emulator.base_file_url, **telegram)  # type: ignore
    config = replace(config, telegram=tg, dialogs=DialogsConfig(str(dialogs)),
                     storage=StorageConfig(str(tmp_path / "coach.db")))
    # A generous per-chat pace: the pacer has tests of its own; these are about the rest.
    return TelegramChannel(build_app(config), tg, poll_timeout=1, backoff=0.01,
                           request_timeout=request_timeout, pacer=ChatPacer(burst=100, period=1))


@contextlib.asynccontextmanager
async def polling(channel: TelegramChannel) -> AsyncIterator[TelegramChannel]:
    stop = asyncio.Event()
    async with channel.running():
        task = asyncio.create_task(channel.poll(stop))
        try:
            yield channel
        finally:
            stop.set()
            await task


@pytest_asyncio.fixture
async def bot(emulator: BotApiEmulator, tmp_path: Path,
              dialogs: Path) -> AsyncIterator[TelegramChannel]:
    async with polling(make_channel(emulator, tmp_path, dialogs)) as channel:
        yield channel


@pytest.mark.asyncio
async def test_start_answers_with_inline_buttons_and_sets_the_menu(
        emulator: BotApiEmulator, bot: TelegramChannel) -> None:
    emulator.user_sends(1, "/start")
    first, _, third = await emulator.wait_for(1, 3)
    assert first.plain.startswith("Hi, I'm your SMART coach.")
    assert third.buttons == [("How does this work?", "start|welcome|0"),
                             ("Is this private?", "start|welcome|1"),
                             ("Let's begin", "start|welcome|2")]
    assert first.params["parse_mode"] == "HTML"
    # The /help menu's order (each dialog's `menu:`), then the others by command; /cancel.
    catalog = bot.app.catalog
    listed = [d.command for d in catalog.menu()]
    others = sorted(str(d.command) for d in catalog.dialogs.values()
                    if d.command and not d.in_menu)
    assert [c["command"] for c in emulator.commands] == [*listed, *others, "cancel"]
    assert listed[:3] == ["urge", "lapse", "cba"] and "start" in others


@pytest.mark.asyncio
async def test_a_person_whose_app_is_in_spanish_gets_spanish_and_its_menu(
        emulator: BotApiEmulator, bot: TelegramChannel) -> None:
    spanish = bot.app.catalog.language("es")
    emulator.language_of[7] = "es-MX"  # any Spanish: es, es-419, es-ES ...
    emulator.user_sends(7, "/start")
    first = (await emulator.wait_for(7, 1))[0]
    assert first.plain.startswith(spanish.say[("start", "welcome")][0][:30])
    # Telegram shows the menu set for the app's language: in Spanish, the same commands.
    menu = {c["command"]: c["description"] for c in emulator.commands_for["es"]}
    assert list(menu) == [c["command"] for c in emulator.commands]
    assert menu["urge"] == spanish.menu["urge"][1] != bot.app.catalog.dialogs["urge"].description
    assert menu["cancel"] == spanish.messages["cancel_command"]


@pytest.mark.asyncio
async def test_a_multi_step_flow_with_buttons_and_free_text(
        emulator: BotApiEmulator, bot: TelegramChannel) -> None:
    emulator.user_sends(1, "/start")
    await emulator.wait_for(1, 3)
    emulator.user_presses(1, "Let's begin")
    await emulator.wait_for(1, 4)
    emulator.user_sends(1, "drinking")
    await emulator.wait_for(1, 5)
    emulator.user_sends(1, "my kids <3 & me")
    await emulator.wait_for(1, 6)
    assert [b for b, _ in emulator.messages_to(1)[-1].buttons] == ["0-3", "4-6", "7-10"]
    emulator.user_presses(1, "7-10")
    messages = await emulator.wait_for(1, 9)
    assert messages[7].text == ("Thank you. I'll keep your reason in mind: <b>my kids &lt;3 "
                                "&amp; me</b>. When things get hard, I'll remind you of it.")
    assert messages[8].plain.startswith("Would you like a short daily check-in?")
    emulator.user_presses(1, "Not now")
    messages = await emulator.wait_for(1, 10)
    assert messages[9].plain == "What would you like to do? Tap one, or tell me in your own words."
    assert len(emulator.answered_callbacks) == 3  # every press stops the spinner


@pytest.mark.asyncio
async def test_free_text_and_unexpected_messages_all_get_a_reply(
        emulator: BotApiEmulator, bot: TelegramChannel) -> None:
    emulator.user_sends(2, "qwerty asdf")
    emulator.user_sends_sticker(2)
    emulator.user_edits(2, "hello!")
    emulator.user_sends(2, "🌵")
    emulator.user_sends(2, ("zqv wkp " * 512)[:4096])
    emulator.user_sends(2, "/whatever")
    texts = [m.plain for m in await emulator.wait_for(2, 6)]
    assert texts[0].startswith("I'm not sure I understood that.")
    assert texts[1] == "I can only read text for now. Tell me in a few words, or tap /help."
    assert texts[2] == "I only read new messages. If you changed something, please send it again."
    assert texts[3].startswith("I'm not sure I understood that.")
    assert texts[4].startswith("I'm not sure I understood that.")
    assert texts[5] == "I don't know /whatever. Tap /help to see what I can do."


@pytest.mark.asyncio
async def test_a_shared_location(emulator: BotApiEmulator, bot: TelegramChannel) -> None:
    emulator.user_sends(3, "/place")
    (ask,) = await emulator.wait_for(3, 1)
    keyboard = ask.params["reply_markup"]["keyboard"]
    assert keyboard == [[{"text": "Share my location", "request_location": True}]]
    emulator.user_shares_location(3, 51.5072, -0.1276)
    messages = await emulator.wait_for(3, 2)
    assert messages[1].plain == "Thanks, I've got your location."
    answers = bot.app.store.load_user(person(bot, 3)).answers
    assert answers["place"] == {"latitude": 51.5072, "longitude": -0.1276}


@pytest.mark.asyncio
async def test_a_stale_button_gets_a_note_and_the_current_step(
        emulator: BotApiEmulator, bot: TelegramChannel) -> None:
    emulator.user_sends(4, "/help")
    (menu,) = await emulator.wait_for(4, 1)
    emulator.user_presses(4, "About this coach")
    (about,) = (await emulator.wait_for(4, 2))[1:]
    emulator.user_presses(4, "What is SMART Recovery?")
    await emulator.wait_for(4, 3)
    emulator.user_presses_data(4, about.buttons[1][1], about)  # an earlier step's, pressed late
    messages = await emulator.wait_for(4, 5)
    assert messages[3].plain == "That button belongs to an earlier message."
    assert messages[4].plain.startswith("SMART Recovery is a science-based")
    # A /help menu button opens its tool whenever it is pressed, as its command would.
    emulator.user_presses_data(4, menu.buttons[0][1], menu)
    messages = await emulator.wait_for(4, 6)
    assert messages[5].plain.startswith("Let's get through this together.")
    assert len(emulator.answered_callbacks) == 4


@pytest.mark.asyncio
async def test_groups_get_only_an_invitation_and_nothing_is_stored(
        emulator: BotApiEmulator, bot: TelegramChannel) -> None:
    update_id = emulator.group_message(-100123, 5, "/start")
    (note,) = await emulator.wait_for(-100123, 1)
    assert note.plain.startswith("Conversations with me are private.")
    # Confirmed means past the inbox: had it been for the engine, it would be in the inbox
    # or handled by now. It is in neither, so nothing can still come of it.
    await emulator.wait_confirmed(update_id)
    assert not bot.app.store.was_handled(update_id)
    assert update_id not in [e.update_id for e in bot.app.store.inbox()]
    assert emulator.messages_to(5) == []
    store = bot.app.store
    assert isinstance(store, SqliteStore)  # nobody was even given an id for it
    assert store.db.execute("select count(*) from people").fetchone()[0] == 0


@pytest.mark.asyncio
async def test_429_and_500_delay_messages_but_lose_none(
        emulator: BotApiEmulator, bot: TelegramChannel) -> None:
    emulator.fail("sendMessage", 429, retry_after=1)
    emulator.fail("sendMessage", 500, times=2)
    emulator.fail("sendMessage", 502)
    emulator.user_sends(6, "/start")
    emulator.user_sends(6, "1")
    emulator.user_sends(6, "/help")
    texts = [m.plain for m in await emulator.wait_for(6, 5)]
    assert texts[0].startswith("Hi, I'm your SMART coach.")
    assert texts[1].startswith("I'm a self-help coach")
    assert texts[2].startswith("One safety note")
    assert texts[3].startswith("Type in your own words or tap the buttons.")
    assert texts[4].startswith("What would you like to do?")
    statuses = [m for m, _ in emulator.calls if m == "sendMessage"]
    assert len(statuses) == 9  # 4 failures retried, 5 delivered


@pytest.mark.asyncio
async def test_an_outage_longer_than_the_retries_loses_no_reply(
        emulator: BotApiEmulator, tmp_path: Path, dialogs: Path) -> None:
    """The replies of a step whose sends gave up used to be deleted from the outbox: an
    outage longer than the sender's own retries lost them. Now they wait there and go,
    in order, oldest first, when Telegram is back (within the follow-up grace period)."""
    channel = make_channel(emulator, tmp_path, dialogs)
    channel.sender.max_attempts = 2  # give up quickly: the outage outlasts the retries
    channel.app.dispatcher.retry_every = 0.2
    async with polling(channel) as bot:
        emulator.outage(1.5)
        emulator.user_sends(12, "/start")
        await emulator.wait_confirmed(1)
        emulator.user_sends(12, "/help")  # written during the outage: after the /start ones
        texts = [m.plain for m in await emulator.wait_for(12, 4, timeout=15)]
        assert texts[0].startswith("Hi, I'm your SMART coach.")
        assert texts[2].startswith("One safety note")
        assert texts[3].startswith("What would you like to do?")
        for _ in range(100):
            if not bot.app.store.unsent() and not bot.app.dispatcher.held():
                break
            await asyncio.sleep(0.05)
        assert bot.app.store.unsent() == [] and bot.app.dispatcher.held() == 0


@pytest.mark.asyncio
async def test_a_user_who_blocks_the_bot_is_marked_inactive(
        emulator: BotApiEmulator, bot: TelegramChannel) -> None:
    emulator.user_sends(7, "/help")
    await emulator.wait_for(7, 1)
    emulator.user_blocks(7)
    for _ in range(100):
        if not bot.app.store.load_user(person(bot, 7)).active:
            break
        await asyncio.sleep(0.02)
    assert bot.app.store.load_user(person(bot, 7)).active is False
    emulator.blocked.discard(7)
    emulator.user_sends(7, "/help")  # writing again makes them active again
    await emulator.wait_for(7, 2)
    assert bot.app.store.load_user(person(bot, 7)).active is True


@pytest.mark.asyncio
async def test_a_block_is_not_undone_by_a_message_that_was_waiting_before_it(
        emulator: BotApiEmulator, bot: TelegramChannel) -> None:
    """The block used to be written at once, beside the person's queue: a message of theirs
    still waiting behind a slow delivery then ran and set them active again."""
    emulator.latency = 0.2  # the first /help holds the person's lock while it is delivered
    emulator.user_sends(9, "/help")
    emulator.user_sends(9, "/help")
    emulator.user_blocks(9)
    # The replies still go through (they left just before the block took effect), so no
    # 403 comes to mark the block a second time: the block update alone must hold.
    emulator.blocked.discard(9)
    await emulator.wait_for(9, 2)
    for _ in range(150):
        await asyncio.sleep(0.02)
        if not bot.app.dispatcher.active_users():
            break
    assert bot.app.dispatcher.active_users() == 0
    assert bot.app.store.load_user(person(bot, 9)).active is False


@pytest.mark.asyncio
async def test_a_403_on_sending_marks_the_user_inactive(
        emulator: BotApiEmulator, bot: TelegramChannel) -> None:
    emulator.fail("sendMessage", 403)
    emulator.user_sends(8, "/help")
    for _ in range(100):
        if not bot.app.store.load_user(person(bot, 8)).active:
            break
        await asyncio.sleep(0.02)
    assert bot.app.store.load_user(person(bot, 8)).active is False


@pytest.mark.asyncio
async def test_two_users_interleaved_each_in_order(
        emulator: BotApiEmulator, bot: TelegramChannel) -> None:
    emulator.latency = 0.01
    for user in (10, 11):
        emulator.user_sends(user, "/start")
    for user in (10, 11):
        emulator.user_sends(user, "3")
    emulator.user_sends(10, "cannabis")
    emulator.user_sends(11, "gambling")
    emulator.user_sends(10, "my health")
    emulator.user_sends(11, "my savings")
    for user, reason in ((10, "my health"), (11, "my savings")):
        texts = [m.plain for m in await emulator.wait_for(user, 6)]
        assert texts[3].startswith("What would you like to change?")
        assert texts[4] == "What's one reason this change matters to you?"
        assert texts[5].startswith("On a scale of 0 to 10")
        assert bot.app.store.load_user(person(bot, user)).answers["reason"] == reason


@pytest.mark.asyncio
async def test_updates_are_confirmed_only_once_they_are_in_the_inbox(
        emulator: BotApiEmulator, tmp_path: Path, dialogs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Telegram never sends again what it got a confirmation for (the next getUpdates'
    offset), so a crash between the two must not lose it. What is checked is the order:
    how far Telegram had been told when the save ended. The save is made slow, so a
    confirmation sent before it would be seen."""
    channel = make_channel(emulator, tmp_path, dialogs)
    store = channel.app.store
    receive = store.receive
    confirmed_when_saved: dict[int, int] = {}

    def slow_receive(events: list[Incoming], now: datetime) -> list[Incoming]:
        time.sleep(0.2)  # a slow disk (on the engine thread, as the real save)
        fresh = receive(events, now)
        for event in events:
            confirmed_when_saved[event.update_id] = emulator.confirmed_up_to
        return fresh

    monkeypatch.setattr(store, "receive", slow_receive)
    async with polling(channel):
        update_id = emulator.user_sends(12, "/start")
        await emulator.wait_confirmed(update_id)
        assert update_id in confirmed_when_saved, "confirmed before it was saved"
        assert confirmed_when_saved[update_id] < update_id, "confirmed while being saved"
        await emulator.wait_for(12, 3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.asyncio
async def test_webhook_needs_the_secret(emulator: BotApiEmulator, tmp_path: Path,
                                        dialogs: Path) -> None:
    port = free_port()
    hook = WebhookConfig(listen="127.0.0.1", port=port, url=f"http://127.0.0.1:{port}/hook",
                         secret_token="s3cret-token")
    channel = make_channel(emulator, tmp_path, dialogs, mode="webhook", webhook=hook)
    store = channel.app.store
    async with channel.running():
        await channel.start_webhook()
        assert emulator.webhook == {"url": hook.url, "secret_token": "s3cret-token"}
        refused = [emulator.make_update(13, "/help"), emulator.make_update(13, "/help")]
        assert await emulator.post_to_webhook(refused[0], None) == 403
        assert await emulator.post_to_webhook(refused[1], "wrong") == 403
        accepted = emulator.make_update(13, "/help")
        assert await emulator.post_to_webhook(accepted, "s3cret-token") == 200
        (menu,) = await emulator.wait_for(13, 1)
        assert menu.plain.startswith("What would you like to do?")
        # The accepted update is answered and handled; a refused one, had it been taken,
        # would have come before it (one person's updates are handled in order).
        for _ in range(500):
            if not channel.app.dispatcher.active_users():
                break
            await asyncio.sleep(0.01)
        assert store.was_handled(accepted["update_id"])
        assert len(emulator.messages_to(13)) == 1
        for update in refused:
            assert not store.was_handled(update["update_id"])
            assert update["update_id"] not in [e.update_id for e in store.inbox()]


@pytest.mark.asyncio
async def test_a_timed_out_send_is_retried(emulator: BotApiEmulator, tmp_path: Path,
                                           dialogs: Path) -> None:
    emulator.fail("sendMessage", 500, delay=1.0)  # answers after the client gave up
    async with polling(make_channel(emulator, tmp_path, dialogs, request_timeout=0.3)):
        emulator.user_sends(14, "/help")
        (menu,) = await emulator.wait_for(14, 1)
        assert menu.plain.startswith("What would you like to do?")


@pytest.mark.asyncio
async def test_an_unexpected_error_is_logged_by_update_id_and_apologised_for(
        emulator: BotApiEmulator, bot: TelegramChannel, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    async def broken(*args: object) -> None:
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(bot.app.dispatcher, "process", broken)
    update_id = emulator.user_sends(15, "my private words")
    (apology,) = await emulator.wait_for(15, 1)
    assert apology.plain == "Sorry, something went wrong on my side. Please try again in a moment."
    assert f"update {update_id} failed: RuntimeError" in caplog.text
    assert "my private words" not in caplog.text


@pytest.mark.asyncio
async def test_the_nearest_meetings_from_a_shared_location(
        emulator: BotApiEmulator, bot: TelegramChannel) -> None:
    emulator.user_sends(20, "/meeting")
    (ask,) = await emulator.wait_for(20, 1)
    assert ask.params["reply_markup"]["keyboard"][0][0]["request_location"] is True
    emulator.user_shares_location(20, 51.5074, -0.1278)  # central London
    messages = await emulator.wait_for(20, 4)
    venue, listing, more = messages[1:4]
    assert venue.method == "sendVenue" and venue.params["title"] == "SMART Recovery Westminster"
    assert listing.plain.startswith("Meetings near you, nearest first")
    assert "London" in listing.plain and "Manchester" not in listing.plain
    assert [label for label, _ in more.buttons] == ["More meetings", "Online meetings",
                                                    "That's fine"]


@pytest.mark.asyncio
async def test_one_person_waiting_out_a_429_holds_up_nobody_else(
        emulator: BotApiEmulator, bot: TelegramChannel) -> None:
    emulator.fail("sendMessage", 429, retry_after=3)  # the next message waits 3 s
    emulator.user_sends(1, "/help")
    while not any(m == "sendMessage" for m, _ in emulator.calls):
        await asyncio.sleep(0.01)  # user 1's reply got its 429
    emulator.user_sends(2, "/help")  # a later batch
    await emulator.wait_for(2, 1)
    assert emulator.messages_to(1) == []  # user 2 went first; user 1's is still waiting
    await emulator.wait_for(1, 1)  # in order, not lost


@pytest.mark.asyncio
async def test_the_crisis_numbers_come_first_and_at_once_even_right_after_start(
        emulator: BotApiEmulator, tmp_path: Path, dialogs: Path) -> None:
    # Telegram's own pace: /start's three messages use up this chat's burst, so anything
    # ordinary now waits for the next slot; the crisis reply must not.
    # The pace's waits are recorded, not slept: what is checked is that the crisis reply
    # was sent without one (an ordinary fourth message would wait most of an hour).
    channel = make_channel(emulator, tmp_path, dialogs)
    channel.sender.pacer = ChatPacer(burst=3, period=3600.0)
    paced: list[tuple[int, float]] = []  # (messages the person had by then, the wait)

    async def record(seconds: float) -> None:
        paced.append((len(emulator.messages_to(7)), seconds))

    channel.sender.sleep = record
    async with polling(channel):
        emulator.user_sends(7, "/start")
        await emulator.wait_for(7, 3)
        assert paced == []  # /start's three fit in the burst
        emulator.user_sends(7, "honestly i dont see the point of being alive anymore")
        reply = (await emulator.wait_for(7, 4))[3]
    assert not [wait for before, wait in paced if before == 3], paced
    assert "thoughts of ending your life" in reply.plain and "999" in reply.plain
    assert "116 123" in reply.plain  # every number, in that first message
