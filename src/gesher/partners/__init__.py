"""Partner accounts, tokens and grants (the vetting of issue 4 builds on this)."""
