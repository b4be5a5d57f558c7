"""``python -m tlsapi._cli``: the same as the ``tlsapi`` command."""

import sys

from . import main

sys.exit(main())
