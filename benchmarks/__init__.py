"""Benchmarks: tensorgrad against torch eager and hand-written NumPy (see bench.py)."""
