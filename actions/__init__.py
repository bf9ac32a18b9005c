"""Rasa custom actions. Each one is thin: it reads the turn and calls `bot/`."""
