"""The staff side: what the dashboard shows."""
