"""``python -m factkit.testing serve [--batch]``: see :func:`factkit.testing.main`."""

from . import main

raise SystemExit(main())
