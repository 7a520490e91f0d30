"""Video colour themes: the routine's ``theme:`` setting picks one."""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Theme:
    """The colours of every video frame.

    ``text`` on ``background`` and ``on_accent`` on ``accent`` are chosen for
    strong contrast (well above WCAG's 4.5:1) so a phone held at arm's length
    still reads them; ``muted`` is for secondary lines, ``track`` for the
    unfilled progress bar and the pacer's guide ring.
    """

    name: str
    background: RGB
    text: RGB
    muted: RGB
    accent: RGB
    on_accent: RGB
    track: RGB


THEMES: dict[str, Theme] = {
    # A deep blue-green night: easy on the eyes in a dim room.
    "calm": Theme(
        name="calm",
        background=(15, 27, 36),
        text=(242, 245, 243),
        muted=(170, 188, 196),
        accent=(120, 200, 182),
        on_accent=(12, 30, 34),
        track=(46, 64, 76),
    ),
    # Warm paper for bright rooms and daylight screens.
    "light": Theme(
        name="light",
        background=(246, 243, 235),
        text=(27, 31, 36),
        muted=(84, 92, 100),
        accent=(31, 112, 100),
        on_accent=(250, 248, 242),
        track=(216, 210, 197),
    ),
}

DEFAULT_THEME = "calm"


def theme_named(name: str | None) -> Theme:
    """The theme called ``name``; the calm default when it is unset or unknown.

    ``check`` already refuses unknown themes, so the fallback only guards
    timelines built by hand.
    """
    return THEMES.get(name or DEFAULT_THEME, THEMES[DEFAULT_THEME])
