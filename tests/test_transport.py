"""The aiohttp transport under python-telegram-bot: the same errors as PTB's own, files
uploaded as multipart."""

from __future__ import annotations

import asyncio
import socket

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.channels.telegram.transport import AiohttpRequest
from tests.emulator import BotApiEmulator


@pytest.mark.asyncio
async def test_messages_and_files_go_through(emulator: BotApiEmulator) -> None:
    async with Bot(emulator.token, base_url=emulator.base_url, request=AiohttpRequest(),
                   get_updates_request=AiohttpRequest()) as bot:
        await bot.send_message(5, "<b>hi</b>", parse_mode="HTML")
        await bot.send_document(5, b'{"a": 1}', filename="data.json", caption="yours")
    sent = emulator.messages_to(5)
    assert [s.method for s in sent] == ["sendMessage", "sendDocument"]
    assert sent[0].plain == "hi" and sent[1].text == "yours"


@pytest.mark.asyncio
async def test_a_slow_answer_is_timed_out(emulator: BotApiEmulator) -> None:
    async with Bot(emulator.token, base_url=emulator.base_url,
                   request=AiohttpRequest(read_timeout=0.2, write_timeout=0.0),
                   get_updates_request=AiohttpRequest()) as bot:
        emulator.latency = 1.0
        with pytest.raises(TimedOut):
            await bot.send_message(5, "hi")


@pytest.mark.asyncio
async def test_nobody_listening_is_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.do_request(f"http://127.0.0.1:{port}/botX/getMe", "POST")
    finally:
        await request.shutdown()
    await asyncio.sleep(0)
