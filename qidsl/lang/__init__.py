"""The front end: source text to a checked, expanded routine (parser, model, check, expand, fmt, settings)."""
