"""Making up for it: what a customer is offered after a delay or a broken promise."""
