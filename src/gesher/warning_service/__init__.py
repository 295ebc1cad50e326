"""Early warning's service side (issue 7), over the pure core `gesher.warning`:

- `matching`: the matching engine, raw observation files (CSV or JSON lines) against a million indicator
  values in DuckDB, with the pure core's normal forms and its all-or-nothing file rules;
- `indicator_keys`: the values each stored indicator names, kept at ingest, for one-lookup matching;
- `pattern_index`: observed values evaluated against the indicators whose patterns are not equalities
  (LIKE, MATCHES, ISSUBSET, comparisons...), from a per-worker cache of compiled patterns by object type;
- `sightings`: partners' reports in (attributed, rate-limited, clock-checked, stored append-only), then
  correlated and alerted, in the caller's transaction; `stix_sightings` reads STIX `sighting` objects
  and `taxii` is the hook of TAXII POST;
- `correlation`: one token's decision from the store (stateless across workers);
- `alerts`: alerts out as STIX reports in the `alerts` collection (through the tiered policy) and in
  the disclosure ledger.
- `webhooks`: partners' webhooks and the outbox queued with each alert; `webhook_delivery` sends it (read
  through the policy as the partner, recorded in the ledger first, retried with back-off),
  `webhook_http` posts and says when to try again, `webhook_signing` signs (Ed25519, Standard Webhooks),
  `webhook_urls` says which URLs are allowed.
- `background`: what a serving process runs on its own threads: webhook delivery, the indicator index
  builder (`indicator_builder`), the escalation sweep (`escalation`, after `acknowledgements`).
"""
