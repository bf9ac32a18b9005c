"""A person takes over a conversation, with the whole story."""
