"""Safety: what the bot shows when a message signals a crisis (crisis lines by country)."""
