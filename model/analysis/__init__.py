"""Analysis: records -> tidy tables (declared in ``measures``), intervals, bottlenecks, the capacity
bound, the sanity check, summaries, economics and the ranking of investments.
"""
