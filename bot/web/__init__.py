"""The web service on WEB_PORT: intake of order changes and the outbox API."""
