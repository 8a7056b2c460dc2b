"""Dialogs: the YAML format, its validation, the shared state machines and the engine."""
