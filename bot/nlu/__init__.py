"""Pipeline components of our own for the NLU model (named in config.yml)."""
