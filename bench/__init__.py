"""Benchmarks of dorisbk against plain tools on this machine (``python -m bench.load_query``, ``bench.backup``)."""
