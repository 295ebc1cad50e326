"""Pure policy: who may receive what. No web or database imports (enforced by import-linter)."""
