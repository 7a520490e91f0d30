"""Errors that end a build with one clear sentence instead of a traceback."""


class BuildError(Exception):
    """An I/O or engine failure, reported to the user as one sentence."""
