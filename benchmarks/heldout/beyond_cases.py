"""Part B."""

TEMPLATES: list = []
