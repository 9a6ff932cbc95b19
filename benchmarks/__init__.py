"""Benchmarks for Modelhouse (run through management commands, e.g. `manage.py bench_sync`)."""
