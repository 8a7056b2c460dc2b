"""Run the engine on Telegram: long polling or a webhook, HTML replies, inline keyboards.

Long polling and the webhook are our own small loop and server rather than
python-telegram-bot's Updater, because the Updater confirms updates (the next getUpdates
offset, or the webhook's HTTP 200) as soon as it has them, so a crash would lose them, and
Telegram never sends again what it got a 200 for. Here an update is confirmed only once it
is saved in the inbox (bot.storage.inbox), the same inbox on both paths; each update leaves
the inbox in its step's transaction, so what a crash interrupts is handled at the next
start, and the saved update ids make a repeat harmless. Handling does not hold up the next
update: one person waiting out a 429 delays nobody else. Replies saved with a step but not
delivered before a crash wait in the outbox and are sent at start (bot.dispatch).

The callbacks only translate; every decision is the engine's. Order per person and the
bound on concurrency come from the Dispatcher, whose per-user lock is taken, before any
await, in the order updates arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import logging
import os
import signal
from collections.abc import AsyncIterator, Coroutine
from dataclasses import replace
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import Application

from bot.channels.base import Host
from bot.channels.telegram.convert import Inbound, Route, classify
from bot.channels.telegram.limiter import PriorityLimiter
from bot.channels.telegram.limits import CAPABILITIES
from bot.channels.telegram.sender import ChatPacer, Delivery, Sender
from bot.channels.telegram.transport import AiohttpRequest
from bot.config import TelegramConfig
from bot.dispatch import ChannelDown
from bot.errors import BotError, ConfigError
from bot.events import Incoming, Outgoing

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10  # seconds a getUpdates long poll waits for something to arrive
MAX_HANDLING = 1000  # updates in hand before polling waits for the engine to catch up

NO_TOKEN = """\
no Telegram bot token. To get one:
  1. In Telegram, open @BotFather and send /newbot; choose a name and a username.
  2. BotFather replies with a token like 123456789:AA...; keep it secret.
  3. export TELEGRAM_BOT_TOKEN='<the token>'   (or set telegram.token in config.yaml)
To try the coach without Telegram, run `smart-coach chat`: it needs no token."""


class MissingToken(ConfigError):
    def __init__(self, source: str):
        super().__init__(source, "telegram.token", NO_TOKEN)


CHANNEL = "telegram"  # the people table's name for Telegram's chat ids


class RejectedToken(BotError):
    def __init__(self) -> None:
        super().__init__("Telegram rejected the bot token: check TELEGRAM_BOT_TOKEN (or "
                         "telegram.token) against what @BotFather gave you.")


class TelegramChannel:
    capabilities = CAPABILITIES

    def __init__(self, app: Host, config: TelegramConfig, *, source: str = "(defaults)",
                 max_attempts: int = 6, backoff: float = 0.5,
                 poll_timeout: int = POLL_TIMEOUT, request_timeout: float = 5.0,
                 pacer: ChatPacer | None = None):
        if not config.token:
            raise MissingToken(source)
        # Opt in to python-telegram-bot's timedelta time periods (its next default), which
        # the sender handles; without it every 429 raises a deprecation warning.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        if config.mode == "webhook":
            if not config.webhook.url:
                raise ConfigError(source, "telegram.webhook.url", "required in webhook mode: "
                                  "the public HTTPS address Telegram posts updates to")
            if not config.webhook.secret_token:
                raise ConfigError(source, "telegram.webhook.secret_token", "required in "
                                  "webhook mode (or set TELEGRAM_WEBHOOK_SECRET)")
        self.app = app
        self.config = config
        self.messages = app.catalog.messages
        self.poll_timeout = poll_timeout
        builder = (
            Application.builder()
            .token(config.token)
            .base_url(config.api_base_url)
            .base_file_url(config.api_base_file_url)
            # As many connections as steps in flight (the dispatcher's bound): at a 50 ms
            # round trip 16 held the bot to 200 updates/s, 64 gave 336 (bench/throughput.py).
            .request(AiohttpRequest(connections=64, read_timeout=request_timeout,
                                    write_timeout=request_timeout))
            .get_updates_request(AiohttpRequest(connections=2,
                                                read_timeout=poll_timeout + request_timeout))
        )
        # One message a second under Telegram's limit: the limit is counted where the
        # messages arrive, and a little jitter on the way must not make 31 of 30.
        per_second = config.max_messages_per_second - 1 if config.max_messages_per_second > 1 \
            else config.max_messages_per_second
        if per_second:
            # PTB types the builder's limiter as taking no arguments; ours takes a priority.
            builder = builder.rate_limiter(PriorityLimiter(per_second))  # type: ignore[arg-type]
        self.application: Application = builder.build()  # type: ignore[type-arg]
        self.sender = Sender(self.application.bot, on_blocked=self._blocked,
                             share_location_label=self.messages["share_location_button"],
                             max_attempts=max_attempts, backoff=backoff,
                             pacer=pacer or ChatPacer(burst=config.per_chat_burst),
                             prioritised=bool(per_second))
        self._background: set[asyncio.Task[None]] = set()
        self._handling: set[asyncio.Future[None]] = set()  # updates being handled
        self._webhook: web.AppRunner | None = None
        self._chats: dict[int, int] = {}  # person -> their Telegram chat

    # -- running ----------------------------------------------------------------------------

    def run(self) -> None:
        """Run until SIGINT or SIGTERM, then finish the updates in hand and stop."""
        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await self.app.run(self, stop)
        try:
            asyncio.run(main())
        except InvalidToken:
            raise RejectedToken() from None

    async def serve(self, stop: asyncio.Event) -> None:
        if self.config.mode == "webhook":
            await self.start_webhook()
            await stop.wait()
            await self.stop_webhook()
        else:
            await self.poll(stop)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[TelegramChannel]:
        """The App's lifecycle around this channel (App.serving), for driving it by hand
        (tests, benchmarks): connected, the command menu set, what a stop kept resent,
        follow-ups and nudges running; stopped cleanly on exit."""
        async with self.app.serving(self):
            yield self

    async def open(self) -> None:
        await self.application.initialize()
        await self.application.start()
        # The menu in the bot's language, and in each translation's for people whose app
        # is in that language (Telegram picks by the app's language_code).
        catalog = self.app.catalog
        for code in catalog.languages:
            commands = [BotCommand(name, text) for name, text in catalog.commands(code)]
            await self.application.bot.set_my_commands(
                commands, language_code=None if code == catalog.source else code)
        log.info("connected as @%s", self.application.bot.username)
        # Everything loaded so far (dialogs, the intent model, the libraries) lives as long
        # as the process: out of the garbage collector's sight, its full passes stop
        # pausing the loop for tens of milliseconds, which bunched paced sends into 429s
        # (bench/nudges.py: 262 at 10,000 nudges, none with it).
        gc.freeze()

    async def close(self) -> None:
        await self.stop_webhook()
        if self.application.running:
            await self.application.stop()  # waits for handlers still running
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.application.shutdown()

    async def start_webhook(self) -> None:
        """Serve the webhook, then register its URL with the secret (requests without it
        get HTTP 403). Updates a crash left in the inbox go first."""
        hook = self.config.webhook
        server = web.Application(client_max_size=1024 * 1024)
        server.router.add_post("/" + urlparse(hook.url or "").path.lstrip("/"), self._posted)
        self._webhook = web.AppRunner(server, access_log=None)
        await self._webhook.setup()
        await web.TCPSite(self._webhook, hook.listen, hook.port).start()
        for event in await self.app.received():
            self._handle_soon(event)
        await self.application.bot.set_webhook(hook.url or "", secret_token=hook.secret_token,
                                               allowed_updates=Update.ALL_TYPES)

    async def stop_webhook(self) -> None:
        """Stop taking updates, then finish the ones in hand (SIGTERM loses nothing)."""
        if self._webhook is not None:
            await self._webhook.cleanup()
            self._webhook = None
            await asyncio.gather(*self._handling)

    async def _posted(self, request: web.Request) -> web.Response:
        """One update from Telegram: answered 200 only once it is in the inbox."""
        secret = self.config.webhook.secret_token or ""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), self.application.bot)
        except (ValueError, TypeError, KeyError) as exc:  # not an update: never retried
            log.warning("the webhook got something that is not an update (%s)",
                        type(exc).__name__)
            return web.Response(status=400)
        await self._receive([update])
        return web.Response()

    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling: each batch is saved to the inbox before it is confirmed, then
        handled without holding up the next one. Updates a crash left in the inbox go
        first."""
        bot = self.application.bot
        await bot.delete_webhook()
        for event in await self.app.received():
            self._handle_soon(event)
        offset: int | None = None
        failures = 0
        while not stop.is_set():
            if len(self._handling) >= MAX_HANDLING:  # let the engine catch up first
                await asyncio.wait(self._handling, return_when=asyncio.FIRST_COMPLETED)
                continue
            fetch = asyncio.ensure_future(bot.get_updates(
                offset=offset, timeout=self.poll_timeout, allowed_updates=Update.ALL_TYPES))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():
                fetch.cancel()  # stopping: nothing of this poll was handled or confirmed
                with contextlib.suppress(asyncio.CancelledError, TelegramError):
                    await fetch
                break
            try:
                updates = fetch.result()
                failures = 0
            except TimedOut:
                continue
            except Conflict:
                log.error("another instance is polling with this token; retrying in 10s")
                await _sleep_unless(stop, 10)
                continue
            except NetworkError as exc:
                failures += 1
                delay = min(0.5 * 2 ** failures, 30)
                log.warning("getUpdates failed (%s); retrying in %.1fs", type(exc).__name__,
                            delay)
                await _sleep_unless(stop, delay)
                continue
            if updates:
                await self._receive(updates)
                offset = updates[-1].update_id + 1  # confirmed with the next getUpdates
        # Finish what is in hand: SIGTERM loses nothing (kill -9 leaves it in the inbox).
        await asyncio.gather(*self._handling)
        if offset is not None:
            # Confirm the last batch; whatever this returns stays unconfirmed for next time.
            with contextlib.suppress(TelegramError):
                await bot.get_updates(offset=offset, timeout=0, limit=1)

    # -- updates ----------------------------------------------------------------------------

    async def _receive(self, updates: list[Update]) -> None:
        """Save a batch's engine events to the inbox, then start handling each, in order
        (each takes its person's lock in that order, so one person's stay in order)."""
        events = []
        for update in updates:
            inbound = self._inbound(update)
            if inbound.route is Route.ENGINE:
                assert inbound.incoming is not None
                events.append(replace(inbound.incoming, update_id=update.update_id))
            else:
                self._in_background(self._other(inbound))
        chats = {e.update_id: e.user_id for e in events}
        for event in await self.app.receive(CHANNEL, events):
            self._chats[event.user_id] = chats[event.update_id]
            self._handle_soon(event)

    def _handle_soon(self, event: Incoming) -> None:
        task = asyncio.ensure_future(self._handle(event))
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def _handle(self, event: Incoming) -> None:
        """Never raises: an error is logged with the update id, the person gets an apology."""
        try:
            # Known before the step: a /forget step deletes the person's address, and its
            # goodbye still has to reach them.
            await self._chat(event.user_id)
            await self.app.handle(event, self.deliver)
        except Exception as exc:
            log.error("update %s failed: %s", event.update_id, type(exc).__name__,
                      exc_info=exc)
            chat = await self._chat(event.user_id)
            if chat is not None:
                await self._apologise(chat, event.update_id)

    def _inbound(self, update: Update) -> Inbound:
        inbound = classify(update)
        if inbound.callback_query_id:
            # Stop the client's spinner without delaying the step (or its order).
            self._in_background(self._answer_callback(inbound.callback_query_id))
        return inbound

    async def _other(self, inbound: Inbound) -> None:
        """What the engine does not see: groups."""
        match inbound.route:
            case Route.NOT_PRIVATE:
                assert inbound.chat_id is not None
                await self.sender.send(inbound.chat_id, Outgoing(self.messages["private_only"]))
            case Route.ENGINE | Route.UNBLOCKED | Route.IGNORE:
                pass

    async def deliver(self, user_id: int, reply: Outgoing) -> bool:
        """Send one reply; False if the rest of its step cannot go either (blocked). A
        refused message (400) is skipped, so the ones after it still help; when Telegram
        stays out of reach, ChannelDown keeps it in the outbox for later."""
        chat = await self._chat(user_id)
        if chat is None:  # they used /forget since: nobody to send it to
            return False
        delivery = await self.sender.send(chat, reply)
        if delivery is Delivery.FAILED:
            raise ChannelDown
        return delivery.goes_on

    async def _answer_callback(self, query_id: str) -> None:
        try:
            await self.application.bot.answer_callback_query(query_id)
        except TelegramError as exc:  # e.g. a query too old to answer
            log.info("could not answer a callback query: %s", type(exc).__name__)

    async def _blocked(self, chat_id: int) -> None:
        """A step of its own, after whatever the person's lock is held for now (often the
        very delivery that got the 403): never a write beside a step in flight."""
        self._in_background(self._block(chat_id))

    async def _block(self, chat_id: int) -> None:
        person = await self.app.person(CHANNEL, str(chat_id))
        await self.app.handle(Incoming.blocked(person), self.deliver)

    async def _chat(self, user_id: int) -> int | None:
        """The Telegram chat of a person (ids are never reused, so it can be kept)."""
        if user_id not in self._chats:
            address = await self.app.address(user_id)
            if address is None or address[0] != CHANNEL:
                return None
            self._chats[user_id] = int(address[1])
        return self._chats[user_id]

    def _in_background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _apologise(self, chat_id: int, update_id: int | None) -> None:
        try:
            await self.application.bot.send_message(chat_id, self.messages["error"],
                                                    parse_mode=ParseMode.HTML)
        except TelegramError:
            log.warning("could not send the apology for update %s", update_id)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
