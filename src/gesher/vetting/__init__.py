"""Partner vetting: country profiles and the vetting assessment (pure: no web, no database)."""
