"""Outputs: run folders written atomically, the typed Results object, printed text, plots, the map
and the HTML report.
"""
