"""Allow `python -m <package> <command>`."""

from .cli import main

raise SystemExit(main())
