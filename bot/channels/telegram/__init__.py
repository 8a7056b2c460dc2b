"""The Telegram channel (python-telegram-bot): the only package that imports `telegram`."""
