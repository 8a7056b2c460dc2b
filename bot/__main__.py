"""`python -m bot` does exactly what the `smart-coach` console script does."""

import sys

from bot.cli import main

sys.exit(main())
