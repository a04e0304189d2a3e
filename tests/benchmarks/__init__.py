"""Benchmarks: ``make bench`` runs them and prints figures; pytest never collects them."""
