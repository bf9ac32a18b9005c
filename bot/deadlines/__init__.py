"""A customer's deadline: "ik heb hem zaterdag nodig voor mijn bruiloft"."""
