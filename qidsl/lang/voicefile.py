"""``check`` looks at a routine's ``voice:`` file without loading Piper.

A Piper voice is an ``.onnx`` model with its ``.onnx.json`` config beside
it.  The model is not opened here (that needs onnxruntime and numpy, which
``check`` never imports); the file must exist and its config must parse
and read like a Piper config.  ``build`` then loads the voice itself.
"""

from __future__ import annotations

import json
from pathlib import Path

from .diagnostics import Diagnostic, error
from .model import Routine
from .settings import Settings, is_bundled_voice

# Keys Piper reads from a voice's config before it can speak (piper.config.PiperConfig.from_dict).
_PIPER_CONFIG_KEYS = ("audio", "phoneme_id_map")


def voice_file_problems(routine: Routine, settings: Settings) -> list[Diagnostic]:
    """A missing voice file, or one that is not a Piper voice, at the ``voice:`` line."""
    line = routine.setting("voice")
    if line is None or settings.engine != "piper" or is_bundled_voice(settings.voice) or not settings.voice:
        return []
    written = settings.voice
    span = line.value_span
    model = Path(written).expanduser()
    if not model.is_absolute():
        model = Path(routine.path).parent / model
    if model.suffix.lower() != ".onnx":
        return [error("voice-not-piper", f"'{written}' is not a Piper voice", span,
                      "write voice: joe, or the path of a Piper .onnx voice file")]
    config = model.with_name(model.name + ".json")
    try:
        found, config_found = model.is_file(), config.is_file()
    except (OSError, ValueError) as exc:  # a name too long for the file system, a NUL in it
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "the name cannot be a file's"
        return [error("voice-missing", f"cannot use the voice file \"{written}\": {reason}", span,
                      "write voice: joe, or the path of a Piper .onnx voice file")]
    if not found:
        return [error("voice-missing", f"cannot find the voice file \"{written}\"", span,
                      f"looked for {model}")]
    if not config_found:
        return [error("voice-not-piper", f"\"{written}\" has no Piper config beside it", span,
                      f"a Piper voice comes with its config: put {config.name} next to {model.name}")]
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else "it is not valid JSON"
        return [error("voice-not-piper", f"the config of \"{written}\" cannot be read: {reason}", span,
                      f"download {config.name} again with the voice")]
    if not isinstance(data, dict) or any(key not in data for key in _PIPER_CONFIG_KEYS):
        return [error("voice-not-piper", f"{config.name} is not a Piper voice config", span,
                      "a Piper config has 'audio' and 'phoneme_id_map': download it again with the voice")]
    return []
