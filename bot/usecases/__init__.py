"""What the assistant does, as plain functions over one unit of work (work.py):
answer a question (questions.py), apply an order change (order_changes.py),
show a warning (warnings.py), a customer's answer to one: wait, cancel, an
alternative, stop (order_choices.py), ask a colleague (follow_up.py), make up
for a setback (offers.py) and hand over to a person (handover.py).

No Rasa here: the action server's actions read the turn, call one of these
and say what it returns; the web service and the source worker call the
same functions. Each takes a Work (one transaction on the assistant's memory
plus the shop) and returns what to say and what changed.
"""
