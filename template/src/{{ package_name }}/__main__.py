"""Allow `python -m <package> <command>`."""

import gc

from .cli import main

code = main()
# Arrow objects left for the interpreter's last teardown can abort the process after the work
# is done ("terminate called without an active exception", apache/arrow#34314): free them first.
gc.collect()
raise SystemExit(code)
