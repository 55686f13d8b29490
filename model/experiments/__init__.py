"""Experiments (orchestration): jobs on a pool or Dask, replications, sweeps, appraisals and the bench.
"""
