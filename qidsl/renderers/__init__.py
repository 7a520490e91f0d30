"""Renderers: each reads the timeline and writes one kind of output."""
