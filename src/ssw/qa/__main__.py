"""`python -m ssw.qa <paths...>`: the same as `ssw qa`."""

import sys

from .cli import main

sys.exit(main())
