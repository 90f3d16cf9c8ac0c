"""`python -m provena_trainer`: one job over stdin/stdout frames."""

import sys

from .worker import main

sys.exit(main())
