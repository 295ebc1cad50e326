"""Early warning's pure core (issue 7): no database, no web, no clock (callers pass `now`).

Modules, one concept each:
- `values`: what an observed value is and its one normal form (`ValueType`, `normalise`, `fold`,
  `type_name`), shared by files, indicators and the matching engine.
- `observations`: bulk observation files, CSV or JSON lines (`parse`, `parse_csv`, `parse_jsonl`,
  `Observation`, `SightingType`, `Limits`), all or nothing with line-precise errors.
- `indicators`: match keys of STIX indicator patterns (`match_keys`, `MatchKey`, `Derivation`), and
  `PatternEvaluator` (the OASIS `stix2-matcher`) for patterns that are not equalities.
- `decay`: MISP's polynomial decay (`DecayModel`, `NIDS_SIMPLE`, `PHISHING`, `LONG_LIVED_HASH`,
  `model_for`, `DecayState`, `reference_time`, `base_score`, `admiralty_base_score`).
- `correlate`: per token, distinct reporters, sectors, countries, reliability and noisy-OR confidence in
  a window (`Reporter`, `Sighting`, `ReporterState`, `WindowStats`, `window_stats`, `reliability`).
- `rules`: alert rules, suppression and k-anonymous alerts (`AlertRule`, `RuleSet`, `DEFAULT_RULES`,
  `Level`, `decide`, `publish`, `Decision`, `Alert`, `Suppression`).
- `rules_file`: the operator's alert rules file, YAML or JSON, read into a `RuleSet` with every mistake
  at its line and column (`parse_rules`, `load_rules`, `dump_rules`, `AlertRulesError`).
- `correlator`: `Correlator`, sightings in one at a time, new or raised alerts out.
- `errors`: `ObservationError` (a refused file, every `LineError`), `SightingError`.
"""
