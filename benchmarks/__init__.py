"""Benchmarks: run each from the repository root with ``python -m benchmarks.<name>``."""
