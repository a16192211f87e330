"""Benchmarks and the fault drill: ``make bench`` and ``make drill``."""
