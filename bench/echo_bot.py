"""The baseline: a plain python-telegram-bot echo bot, one update at a time or concurrent.

    python bench/echo_bot.py BASE_URL TOKEN [--concurrent N]
"""

from __future__ import annotations

import argparse

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await context.bot.send_message(update.message.chat_id, update.message.text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("token")
    parser.add_argument("--concurrent", type=int, default=0)
    args = parser.parse_args()
    builder = (Application.builder().token(args.token).base_url(args.base_url)
               .connection_pool_size(64).get_updates_connection_pool_size(2))
    if args.concurrent:
        builder = builder.concurrent_updates(args.concurrent)
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0, timeout=10)


if __name__ == "__main__":
    main()
