"""The store: SQLAlchemy Core tables, queries and the SQLite/PostgreSQL differences (in db.py only)."""
