"""Times as people read them."""


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` past an hour, rounded down to the second.

    Rounded down so a chapter link never lands after its first words.
    """
    whole = int(seconds + 1e-6)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
