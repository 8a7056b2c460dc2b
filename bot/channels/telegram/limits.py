"""What a Telegram message can carry (no telegram import: the validator reads this)."""

from bot.channels.base import Capabilities

# callback_data is at most 64 bytes (Bot API, InlineKeyboardButton).
CAPABILITIES = Capabilities("Telegram", button_data_bytes=64)
