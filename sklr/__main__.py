"""``python -m sklr``: the tour (see :mod:`sklr._tour`)."""

import sys

from ._tour import main

sys.exit(main())
