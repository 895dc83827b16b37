"""Persistence. Nothing outside this package writes SQL."""
