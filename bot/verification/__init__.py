"""Anonymous verification (order number plus postcode or email) that cannot be
guessed at: failures counted in the database, per order and per client."""
