"""What customers ask, counted without keeping what they said or who they are."""
