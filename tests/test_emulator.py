"""The Bot API emulator speaks what the real client sends, and refuses what Telegram refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, InvalidToken, RetryAfter

from tests.emulator import BotApiEmulator


@pytest_asyncio.fixture
async def bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(emulator.token, base_url=emulator.base_url) as client:
        yield client


@pytest.mark.asyncio
async def test_every_method_the_bot_uses(emulator: BotApiEmulator, bot: Bot) -> None:
    assert (await bot.get_me()).username == "smart_coach_bot"
    sent = await bot.send_message(1, "<b>hi</b> &amp; bye", parse_mode="HTML")
    await bot.edit_message_text("edited", chat_id=1, message_id=sent.message_id)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="x|y|0")]])
    await bot.edit_message_reply_markup(chat_id=1, message_id=sent.message_id,
                                        reply_markup=markup)
    await bot.send_photo(1, b"\x89PNG fake", caption="chart")
    await bot.send_document(1, b"{}", filename="export.json")
    await bot.send_location(1, 51.5, -0.12)
    venue = await bot.send_venue(1, 51.5, -0.12, "Meeting", "1 High St")
    assert venue.venue is not None and venue.venue.title == "Meeting"
    assert [s.method for s in emulator.messages_to(1)] == [
        "sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPhoto",
        "sendDocument", "sendLocation", "sendVenue"]
    assert emulator.messages_to(1)[0].plain == "hi & bye"
    assert emulator.messages_to(1)[3].params["photo"] == b"\x89PNG fake"


@pytest.mark.asyncio
async def test_refuses_what_telegram_refuses(emulator: BotApiEmulator, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(1, "5 < 6 & so on", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(1, "<b>open", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)too long"):
        await bot.send_message(1, "x" * 4097)
    long_data = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        await bot.send_message(1, "pick", reply_markup=long_data)
    assert emulator.sent == []


@pytest.mark.asyncio
async def test_faults_and_a_wrong_token(emulator: BotApiEmulator, bot: Bot) -> None:
    emulator.fail("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1, "hi")
    assert caught.value.retry_after.total_seconds() == 3
    with pytest.raises(InvalidToken):
        async with Bot("1:wrong", base_url=emulator.base_url):
            pass


@pytest.mark.slow  # a one-second long poll
@pytest.mark.asyncio
async def test_get_updates_confirms_by_offset_and_long_polls(emulator: BotApiEmulator,
                                                             bot: Bot) -> None:
    first = emulator.user_sends(1, "one")
    second = emulator.user_sends(1, "two")
    got = await bot.get_updates(timeout=0)
    assert [u.update_id for u in got] == [first, second]
    assert [u.update_id for u in await bot.get_updates(offset=second, timeout=0)] == [second]
    assert emulator.confirmed_up_to == first
    assert await bot.get_updates(offset=second + 1, timeout=1) == ()  # waited, then empty
