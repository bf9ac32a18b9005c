"""Order assistant: tells web-shop customers what changed in their order and why."""
