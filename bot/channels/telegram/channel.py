"""Run the engine on Telegram: polling or webhook, replies as HTML with inline keyboards.

The callback below only translates; every decision is the engine's. Updates are handled
by a non-blocking handler, so python-telegram-bot keeps fetching while steps run; order
per person and the bound on concurrency come from the Dispatcher (the same one the
console uses), whose per-user lock is taken in the order updates arrive.
"""

from __future__ import annotations

import logging
from urllib.parse import urlparse

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ContextTypes, TypeHandler

from bot.app import App
from bot.channels.telegram.convert import Inbound, Route, classify
from bot.channels.telegram.sender import Sender
from bot.config import TelegramConfig
from bot.errors import ConfigError
from bot.events import Outgoing

log = logging.getLogger(__name__)

NO_TOKEN = """\
No Telegram bot token. To get one:
  1. In Telegram, open @BotFather and send /newbot; choose a name and a username.
  2. BotFather replies with a token like 123456789:AA...; keep it secret.
  3. export TELEGRAM_BOT_TOKEN='<the token>'   (or telegram.token in config.yaml)
To try the coach without Telegram, run `smart-coach chat`: it needs no token."""


class MissingToken(ConfigError):
    def __init__(self, source: str):
        super().__init__(source, "telegram.token", NO_TOKEN)


class TelegramChannel:
    def __init__(self, app: App, config: TelegramConfig, *, source: str = "(defaults)",
                 max_attempts: int = 6, backoff: float = 0.5):
        if not config.token:
            raise MissingToken(source)
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
        self.application: Application = (  # type: ignore[type-arg]
            Application.builder()
            .token(config.token)
            .base_url(config.api_base_url)
            .base_file_url(config.api_base_file_url)
            .rate_limiter(AIORateLimiter())
            .get_updates_connection_pool_size(2)
            .connection_pool_size(64)
            .post_init(self._started)
            .post_shutdown(self._stopped)
            .build()
        )
        self.application.add_handler(TypeHandler(Update, self._on_update, block=False))
        self.application.add_error_handler(self._on_error)
        self.sender = Sender(self.application.bot, on_blocked=self._blocked,
                             share_location_label=self.messages["share_location_button"],
                             max_attempts=max_attempts, backoff=backoff)

    # -- running ----------------------------------------------------------------------------

    def run(self) -> None:
        """Run until SIGINT/SIGTERM (blocking): polling or webhook, as configured."""
        if self.config.mode == "webhook":
            hook = self.config.webhook
            self.application.run_webhook(
                listen=hook.listen, port=hook.port,
                url_path=urlparse(hook.url or "").path.lstrip("/"), webhook_url=hook.url,
                secret_token=hook.secret_token, allowed_updates=Update.ALL_TYPES)
        else:
            self.application.run_polling(allowed_updates=Update.ALL_TYPES)

    async def _started(self, application: Application) -> None:  # type: ignore[type-arg]
        commands = [BotCommand(name, description)
                    for name, description in self.app.catalog.commands()]
        await application.bot.set_my_commands(commands)
        pending = self.app.start_followups(self.deliver)
        log.info("started as @%s; %d follow-ups pending", application.bot.username, pending)

    async def _stopped(self, application: Application) -> None:  # type: ignore[type-arg]
        self.app.close()

    # -- updates ----------------------------------------------------------------------------

    async def _on_update(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not isinstance(update, Update):
            return
        inbound = classify(update)
        if inbound.callback_query_id:
            await self._answer_callback(inbound.callback_query_id)
        match inbound.route:
            case Route.ENGINE:
                assert inbound.incoming is not None
                await self.app.dispatcher.process(inbound.incoming, self.deliver)
            case Route.NOT_PRIVATE:
                await self._note(inbound, "private_only")
            case Route.UNSUPPORTED:
                await self._note(inbound, "unsupported")
            case Route.EDITED:
                await self._note(inbound, "edited")
            case Route.BLOCKED:
                await self._blocked(inbound.chat_id or 0)
            case Route.UNBLOCKED | Route.IGNORE:
                pass

    async def deliver(self, user_id: int, replies: list[Outgoing]) -> None:
        await self.sender.send_all(user_id, replies)

    async def _note(self, inbound: Inbound, key: str) -> None:
        assert inbound.chat_id is not None
        await self.sender.send(inbound.chat_id, Outgoing(self.messages[key]))

    async def _answer_callback(self, query_id: str) -> None:
        """Stop the client's spinner first; an expired query is no reason to fail."""
        try:
            await self.application.bot.answer_callback_query(query_id)
        except TelegramError as exc:
            log.info("could not answer callback query: %s", type(exc).__name__)

    async def _blocked(self, chat_id: int) -> None:
        await self.app.dispatcher.run(self.app.store.set_active, chat_id, False)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("update %s failed: %s", update_id, type(context.error).__name__,
                  exc_info=context.error)
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is not None and chat.type == "private":
            try:
                await self.application.bot.send_message(chat.id, self.messages["error"],
                                                        parse_mode=ParseMode.HTML)
            except TelegramError:
                log.warning("could not send the apology for update %s", update_id)
