"""BrightCart benchmark suite: `python -m bench` measures the pipeline and prints figures.

Benchmarks never assert on time; tests/bench checks only the pure arithmetic used here.
"""
