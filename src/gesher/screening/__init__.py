"""Denied-party screening: pure name matching against watchlists (no web, no database)."""
