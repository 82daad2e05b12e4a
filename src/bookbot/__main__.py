"""`python -m bookbot` is the `bookbot` command."""

import sys

from bookbot.cli import main

sys.exit(main())
