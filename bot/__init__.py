"""smart-coach: a self-help recovery coach built on the SMART Recovery 4-point program."""

__version__ = "0.1.0"
