"""Exchange services: ingest into the store and release out of it (through the policy). No HTTP here."""
