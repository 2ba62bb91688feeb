"""Closed forms only: deterministic float64 mathematics, no randomness, no I/O, no JAX."""
