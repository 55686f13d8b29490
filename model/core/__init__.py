"""Foundation: units, limits, distributions, named random streams, timelines, the year grid, spec
building blocks, weather calendars and per-year histograms. Imports nothing else of the package.
"""
