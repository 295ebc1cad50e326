"""gesher: a sovereign cyber-cooperation exchange (STIX 2.1 over TAXII 2.1, tiered sharing policy)."""

__version__ = "0.1.0"
