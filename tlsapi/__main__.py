"""``python -m tlsapi``: the same as the ``tlsapi`` command."""

import sys

from ._cli import main

sys.exit(main())
