"""Channels: translate between a medium (terminal, Telegram) and the engine, nothing else."""
