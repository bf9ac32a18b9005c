"""The order system in a SQL database (SQLAlchemy; SQLite by default)."""
