"""`python -m bot` does what `communique` does."""

import sys

from bot.cli import main

sys.exit(main())
