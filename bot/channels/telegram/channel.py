"""Run the engine on Telegram: long polling or a webhook, HTML replies, inline keyboards.

Long polling is our own small loop rather than python-telegram-bot's Updater, because
the Updater confirms a batch of updates (the next getUpdates offset) as soon as it has
fetched it, so a crash would lose them. Here a batch is confirmed only once every update
in it has been handled and its step saved; after a crash Telegram delivers it again, and
the saved update ids make the engine skip what it already did. Replies saved with a step
but not delivered before a crash wait in the outbox and are sent at start (bot.dispatch).

The callbacks only translate; every decision is the engine's. Order per person and the
bound on concurrency come from the Dispatcher, whose per-user lock is taken, before any
await, in the order updates arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator, Coroutine
from dataclasses import replace
from typing import Any
from urllib.parse import urlparse

from telegram import BotCommand, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import Conflict, NetworkError, TelegramError, TimedOut
from telegram.ext import AIORateLimiter, Application, ContextTypes, TypeHandler

from bot.app import App
from bot.channels.telegram.convert import Route, classify
from bot.channels.telegram.sender import ChatPacer, Sender
from bot.channels.telegram.transport import AiohttpRequest
from bot.config import TelegramConfig
from bot.errors import ConfigError
from bot.events import Outgoing

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10  # seconds a getUpdates long poll waits for something to arrive

NO_TOKEN = """\
no Telegram bot token. To get one:
  1. In Telegram, open @BotFather and send /newbot; choose a name and a username.
  2. BotFather replies with a token like 123456789:AA...; keep it secret.
  3. export TELEGRAM_BOT_TOKEN='<the token>'   (or set telegram.token in config.yaml)
To try the coach without Telegram, run `smart-coach chat`: it needs no token."""


class MissingToken(ConfigError):
    def __init__(self, source: str):
        super().__init__(source, "telegram.token", NO_TOKEN)


class TelegramChannel:
    def __init__(self, app: App, config: TelegramConfig, *, source: str = "(defaults)",
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
        self.application: Application = (  # type: ignore[type-arg]
            Application.builder()
            .token(config.token)
            .base_url(config.api_base_url)
            .base_file_url(config.api_base_file_url)
            .rate_limiter(AIORateLimiter(overall_max_rate=config.max_messages_per_second))
            # As many connections as steps in flight (the dispatcher's bound): at a 50 ms
            # round trip 16 held the bot to 200 updates/s, 64 gave 336 (bench/throughput.py).
            .request(AiohttpRequest(connections=64, read_timeout=request_timeout,
                                    write_timeout=request_timeout))
            .get_updates_request(AiohttpRequest(connections=2,
                                                read_timeout=poll_timeout + request_timeout))
            .build()
        )
        self.application.add_handler(TypeHandler(Update, self._on_update, block=False))
        self.application.add_error_handler(self._on_error)
        self.sender = Sender(self.application.bot, on_blocked=self._blocked,
                             share_location_label=self.messages["share_location_button"],
                             max_attempts=max_attempts, backoff=backoff,
                             pacer=pacer or ChatPacer(burst=config.per_chat_burst))
        self._background: set[asyncio.Task[None]] = set()

    # -- running ----------------------------------------------------------------------------

    def run(self) -> None:
        """Run until SIGINT or SIGTERM, then finish the updates in hand and stop."""
        asyncio.run(self.serve())

    async def serve(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with self.running():
            if self.config.mode == "webhook":
                await self.start_webhook()
                await stop.wait()
            else:
                await self.poll(stop)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[TelegramChannel]:
        """Connected, commands set, follow-ups scheduled; cleanly stopped on exit."""
        await self.application.initialize()
        try:
            await self.application.start()
            commands = [BotCommand(name, text) for name, text in self.app.catalog.commands()]
            await self.application.bot.set_my_commands(commands)
            resent = await self.app.resend_unsent(self.deliver)
            followups, nudges = await self.app.start_schedules(self.deliver)
            log.info("started as @%s; %d replies resent after a stop, %d follow-ups pending, "
                     "%d check-in nudges queued", self.application.bot.username, resent,
                     followups, nudges)
            yield self
        finally:
            await self.app.stop_schedules()
            updater = self.application.updater
            if updater is not None and updater.running:
                await updater.stop()
            if self.application.running:
                await self.application.stop()  # waits for handlers still running
            if self._background:
                await asyncio.gather(*self._background, return_exceptions=True)
            await self.application.shutdown()
            self.app.close()

    async def start_webhook(self) -> None:
        """Register the URL with its secret; requests without the secret get HTTP 403."""
        hook = self.config.webhook
        updater = self.application.updater
        assert updater is not None
        await updater.start_webhook(
            listen=hook.listen, port=hook.port,
            url_path=urlparse(hook.url or "").path.lstrip("/"), webhook_url=hook.url,
            secret_token=hook.secret_token, allowed_updates=Update.ALL_TYPES)

    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling that confirms a batch only after all of it is handled."""
        bot = self.application.bot
        await bot.delete_webhook()
        offset: int | None = None
        failures = 0
        while not stop.is_set():
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
                await asyncio.gather(*(self.handle_update(u) for u in updates))
                offset = updates[-1].update_id + 1
        if offset is not None:
            # Confirm the last batch; whatever this returns stays unconfirmed for next time.
            with contextlib.suppress(TelegramError):
                await bot.get_updates(offset=offset, timeout=0, limit=1)

    # -- updates ----------------------------------------------------------------------------

    async def handle_update(self, update: Update) -> None:
        """Handle one update; never raises (errors are logged with the update id)."""
        try:
            await self._route(update)
        except Exception as exc:  # the person still gets an apology, the loop goes on
            await self._report(update, exc)

    async def _on_update(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The webhook path: python-telegram-bot hands each update here."""
        if isinstance(update, Update):
            await self._route(update)

    async def _route(self, update: Update) -> None:
        inbound = classify(update)
        if inbound.callback_query_id:
            # Stop the client's spinner without delaying the step (or its order).
            self._in_background(self._answer_callback(inbound.callback_query_id))
        match inbound.route:
            case Route.ENGINE:
                assert inbound.incoming is not None
                event = replace(inbound.incoming, update_id=update.update_id)
                await self.app.dispatcher.process(event, self.deliver)
            case Route.NOT_PRIVATE:
                assert inbound.chat_id is not None
                await self.sender.send(inbound.chat_id, Outgoing(self.messages["private_only"]))
            case Route.BLOCKED:
                await self._blocked(inbound.chat_id or 0)
            case Route.UNBLOCKED | Route.IGNORE:
                pass

    async def deliver(self, user_id: int, reply: Outgoing) -> bool:
        """Send one reply; False if the rest of its step cannot go either. A refused
        message (400) is skipped, so the ones after it still help."""
        return (await self.sender.send(user_id, reply)).goes_on

    async def _answer_callback(self, query_id: str) -> None:
        try:
            await self.application.bot.answer_callback_query(query_id)
        except TelegramError as exc:  # e.g. a query too old to answer
            log.info("could not answer a callback query: %s", type(exc).__name__)

    async def _blocked(self, chat_id: int) -> None:
        await self.app.dispatcher.run(self.app.store.set_active, chat_id, False)

    def _in_background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(update, Update) and context.error is not None:
            await self._report(update, context.error)

    async def _report(self, update: Update, exc: BaseException) -> None:
        # The update id and the error's type: never the text of the message.
        log.error("update %s failed: %s", update.update_id, type(exc).__name__, exc_info=exc)
        chat = update.effective_chat
        if chat is not None and chat.type == ChatType.PRIVATE:
            try:
                await self.application.bot.send_message(chat.id, self.messages["error"],
                                                        parse_mode=ParseMode.HTML)
            except TelegramError:
                log.warning("could not send the apology for update %s", update.update_id)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
