"""Benchmarks of gliclass-rag against the reference ``gliclass`` library and a cross-encoder (not shipped)."""
