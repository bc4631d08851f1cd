"""The held-out evaluation corpus: a seeded generator of product documents (tables and beyond)
with their ground truth. Regenerate with ``make heldout``; ``make eval`` scores it."""
