"""Partner vetting: country profiles and the vetting assessment (pure: no web, no database).

- `countries`: `load_country_profiles(override_dir)` -> `CountryProfiles` (shipped, cited data in `data/`,
  replaceable file by file by an operator), `profile_lines` / `profile_facts` / `profile_as_json`.
- `assess`: `assess(VettingInputs) -> Assessment`, every rule a small function whose docstring is the
  explanation a user reads (`rule_explanations()`).
- `model`: the assessment's inputs, outputs and thresholds (each citing reference/export_control.md 2.2).
"""
