"""The baseline: a plain python-telegram-bot echo bot, one update at a time or concurrent.

    python bench/echo_bot.py BASE_URL TOKEN [--concurrent N] [--pool N]

Texts (commands too) are echoed; a button press is answered (answerCallbackQuery) and its
data echoed, the same two requests smart-coach makes for one.
"""

from __future__ import annotations

import argparse

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await context.bot.send_message(update.message.chat_id, update.message.text)


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.from_user is not None
    await query.answer()
    await context.bot.send_message(query.from_user.id, query.data or "")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("token")
    parser.add_argument("--concurrent", type=int, default=0)
    parser.add_argument("--pool", type=int, default=64, help="HTTP connections")
    args = parser.parse_args()
    builder = (Application.builder().token(args.token).base_url(args.base_url)
               .connection_pool_size(args.pool).get_updates_connection_pool_size(2))
    if args.concurrent:
        builder = builder.concurrent_updates(args.concurrent)
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    app.run_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0, timeout=10)


if __name__ == "__main__":
    main()
