"""``python -m model ...``: the same command line as ``corridor`` and ``python run.py``."""

import sys

from model.cli import main

if __name__ == "__main__":
    sys.exit(main())
