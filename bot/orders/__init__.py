"""The shop's order system: domain objects, repositories (SQL and HTTP)."""
