"""The Telegram sender's retry rules and the per-chat pace, with a scripted bot and no waiting."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channels.telegram.sender import ChatPacer, Delivery, Sender
from bot.events import Button, Outgoing


class ScriptedBot:
    """send_message fails with the scripted errors in turn, then succeeds."""

    def __init__(self, *errors: Exception):
        self.errors = list(errors)
        self.calls: list[dict[str, Any]] = []

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> None:
        self.calls.append({"chat_id": chat_id, "text": text, **kwargs})
        if self.errors:
            raise self.errors.pop(0)


def make(bot: ScriptedBot, blocked: list[int], slept: list[float]) -> Sender:
    async def on_blocked(chat_id: int) -> None:
        blocked.append(chat_id)

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return Sender(bot, share_location_label="Share", on_blocked=on_blocked,  # type: ignore
                  sleep=sleep, pacer=ChatPacer(burst=100, period=1))


@pytest.mark.asyncio
async def test_429_waits_what_telegram_asks_then_sends() -> None:
    bot, blocked, slept = ScriptedBot(RetryAfter(timedelta(seconds=7))), [], []
    assert await make(bot, blocked, slept).send(1, Outgoing("hi")) is Delivery.SENT
    assert slept == [7.0] and len(bot.calls) == 2


@pytest.mark.asyncio
async def test_timeouts_and_server_errors_back_off_exponentially() -> None:
    bot, blocked, slept = ScriptedBot(TimedOut(), NetworkError("502"), TimedOut()), [], []
    assert await make(bot, blocked, slept).send(1, Outgoing("hi")) is Delivery.SENT
    assert slept == [0.5, 1.0, 2.0] and len(bot.calls) == 4


@pytest.mark.asyncio
async def test_bad_request_is_not_retried() -> None:
    bot, blocked, slept = ScriptedBot(BadRequest("can't parse entities")), [], []
    assert await make(bot, blocked, slept).send(1, Outgoing("hi")) is Delivery.REFUSED
    assert len(bot.calls) == 1 and slept == [] and blocked == []


@pytest.mark.asyncio
async def test_forbidden_marks_the_user_blocked() -> None:
    bot, blocked, slept = ScriptedBot(Forbidden("bot was blocked by the user")), [], []
    assert await make(bot, blocked, slept).send(9, Outgoing("hi")) is Delivery.BLOCKED
    assert blocked == [9] and len(bot.calls) == 1


@pytest.mark.asyncio
async def test_gives_up_after_the_last_attempt() -> None:
    bot, blocked, slept = ScriptedBot(*[NetworkError("500")] * 10), [], []
    assert await make(bot, blocked, slept).send(1, Outgoing("hi")) is Delivery.FAILED
    assert len(bot.calls) == 6 and slept == [0.5, 1.0, 2.0, 4.0, 8.0]


@pytest.mark.asyncio
async def test_buttons_become_an_inline_keyboard_in_html() -> None:
    bot, blocked, slept = ScriptedBot(), [], []
    reply = Outgoing("two", (Button("A", "d|s|0"),))
    assert await make(bot, blocked, slept).send(1, reply) is Delivery.SENT
    assert bot.calls[0]["reply_markup"].inline_keyboard[0][0].callback_data == "d|s|0"
    assert bot.calls[0]["parse_mode"] == "HTML"


def test_a_refused_message_lets_the_rest_go_a_block_or_an_outage_stops_them() -> None:
    assert [d.goes_on for d in Delivery] == [True, True, False, False]


def test_pacer_allows_a_burst_then_about_one_a_second() -> None:
    now = [100.0]
    pacer = ChatPacer(burst=5, period=5.0, clock=lambda: now[0])
    assert [pacer.delay(1) for _ in range(5)] == [0.0] * 5
    assert pacer.delay(1) == pytest.approx(5.0)  # the sixth waits for the first to age out
    assert pacer.delay(2) == 0.0  # other chats are not held up
    now[0] += 60
    assert pacer.delay(1) == 0.0


def test_pacer_memory_is_bounded() -> None:
    pacer = ChatPacer(size=100)
    for chat in range(1000):
        pacer.delay(chat)
    assert len(pacer._sent) == 100


def test_a_burst_of_0_turns_the_pace_off() -> None:
    pacer = ChatPacer(burst=0, clock=lambda: 100.0)
    assert [pacer.delay(1) for _ in range(50)] == [0.0] * 50
