"""Early warning's service side (issue 7). So far:

- `matching`: the matching engine, raw observation files (CSV or JSON lines) against a million indicator
  values in DuckDB, with the pure core's normal forms and its all-or-nothing file rules.
"""
