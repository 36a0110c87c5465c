"""``python -m sirecommend``: the same command line as the ``sirecommend`` script."""

import sys

from sirecommend.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    sys.exit(main())
