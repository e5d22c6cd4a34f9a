"""Benchmarks: tensorgrad against torch eager and hand-written NumPy (see bench.py).

Each benchmark calls one_thread() in its first lines, before NumPy or torch is imported: one BLAS/OpenMP
thread on every side, so that the frameworks are compared core for core on a shared machine."""
import os

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS")


def one_thread() -> None:
    for var in THREAD_VARS:
        os.environ[var] = "1"
