"""gesher benchmark: gesher against medallion 3.0.0 and a raw SQLite anchor (see bench/README.md)."""
