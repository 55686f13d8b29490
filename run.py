#!/usr/bin/env python3
"""Caspian corridor freight simulator: command-line entry point.

    python run.py                      # run the baseline scenario
    python run.py run FILE [--seed N] [--replications N] [--out DIR]
    python run.py validate FILE
    python run.py bench [--json]
    python run.py schema
"""

import sys

from model.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
