"""The disclosure ledger (issue 6): pure core. See the modules."""
