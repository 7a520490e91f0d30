"""Diagnostics as SARIF 2.1.0, the format code-scanning services read (``qidsl check --format sarif``).

One run, one rule per diagnostic code (with its description), one result per
diagnostic with the region it covers.  Columns count characters, as
everywhere in qidsl, which SARIF calls ``unicodeCodePoints``.
"""

from __future__ import annotations

import os
from pathlib import PurePath, PurePosixPath
from urllib.parse import quote

from .diagnostics import Diagnostic

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
HELP = "See 'Errors and warnings' in qidsl's language reference (docs/language.md)."

# Every code qidsl reports: whether it is an error or a warning, and what it means.
RULES = {
    "empty-file": ("error", "The file is empty."),
    "not-utf8": ("error", "The file is not UTF-8 text; save it as UTF-8."),
    "missing-title": ("error", "There is no title: line (a file of definitions only needs none)."),
    "empty-setting": ("error", "A setting has nothing after its colon."),
    "spaced-duration": ("error", "A duration is split by a space or has its unit spelt out (write 10s, 2m)."),
    "unknown-setting": ("error", "A setting qidsl does not know."),
    "bad-setting": ("error", "A setting's value is empty, not a number, or out of range."),
    "bad-language": ("error", "The language is not a language code such as en or zh-CN."),
    "unknown-engine": ("error", "The speech engine is not piper, pico, espeak or gtts."),
    "unknown-theme": ("error", "The theme is not one of the video themes."),
    "unknown-figure": ("error", "The figure: is not auto or none."),
    "late-setting": ("error", "A setting comes after the first statement."),
    "unknown-statement": ("error", "A word that is not a statement."),
    "text-not-quoted": ("error", "Text without double quotes."),
    "unclosed-text": ("error", "The closing double quote of a text is missing."),
    "empty-text": ("error", "An empty text (\"\")."),
    "text-too-many-characters": ("error", "A text, name or title longer than the language allows (2,000 characters)."),
    "missing-unit": ("error", "A duration without a unit (write 4s, not 4)."),
    "bad-duration": ("error", "Not a duration."),
    "zero-duration": ("error", "A duration of 0."),
    "bad-number": ("error", "Not a whole number."),
    "bad-count": ("error", "A count outside 1 to 1000."),
    "bad-pattern": ("error", "Not a breath pattern, an inhale or exhale of 0, or a number over 3,600."),
    "missing-count": ("error", "A breath pattern without its count (x3)."),
    "missing-colon": ("error", "A block's first line does not end with a colon."),
    "tab-indent": ("error", "A tab in the indentation."),
    "bad-dedent": ("error", "A line that lines up with no enclosing block."),
    "unexpected-indent": ("error", "An indented line with no block above it."),
    "section-not-top": ("error", "A section written inside a block."),
    "define-not-top": ("error", "A define written inside a block."),
    "include-not-top": ("error", "An include written inside a block."),
    "empty-name": ("error", "A section or sequence named \"\"."),
    "too-deep": ("error", "Blocks (or sequences) nested more than 12 deep."),
    "duplicate-side": ("error", "A side listed twice."),
    "unknown-placeholder": ("error", "A word in {} other than {side}."),
    "side-outside": ("error", "{side} outside an each side block."),
    "unknown-sequence": ("error", "do of a name never defined."),
    "duplicate-define": ("error", "Two sequences with the same name."),
    "recursive-define": ("error", "A sequence that plays itself."),
    "include-missing": ("error", "The included file does not exist."),
    "include-unreadable": ("error", "The included file cannot be read (no permission; a folder, a FIFO or a device; a name with a NUL character or too long)."),
    "include-self": ("error", "A file includes itself."),
    "include-cycle": ("error", "Includes that go round in a circle."),
    "include-outside": ("error", "An include outside the routine's folder tree."),
    "include-depth": ("error", "Includes nested more than 8 deep."),
    "too-many-steps": ("error", "More than 30,000 steps after expansion."),
    "too-long": ("error", "More than 12 hours of written time, in the routine or in one duration."),
    "too-large": ("error", "The routine is too large to expand."),
    "repeat-times": ("error", ("A word after a repeat's count, or an x stuck to it (write repeat 3:, not "
                               "repeat 3 times: or repeat 3x:).")),
    "engine-language": ("error", "The engine named cannot speak the routine's language (joe reads another "
                        "language only when named: voice: joe)."),
    "voice-missing": ("error", "The voice: file does not exist."),
    "voice-not-piper": ("error", "The voice: is not a Piper voice (an .onnx file with its .onnx.json config)."),
    "unknown-music": ("error", "The music: is not calm, none or a quoted file."),
    "music-missing": ("error", "The music: file does not exist."),
    "music-unreadable": ("error", "The music: file cannot be read (no permission, a folder, a bad name)."),
    "music-outside": ("error", "A music: file outside the routine's folder tree."),
    "music-unsupported": ("error", "The music: file is not in a sound format qidsl plays (Ogg, FLAC, WAV, AIFF, MP3, "
                          "MPEG-4 audio)."),
    "unknown-backdrop": ("error", "A backdrop that is neither a file in quotes nor none."),
    "bad-backdrop": ("error", "backdrop none with a from part."),
    "backdrop-missing": ("error", "The backdrop file does not exist."),
    "backdrop-outside": ("error", "A backdrop file outside the routine's folder tree."),
    "backdrop-unreadable": ("error", "The backdrop file cannot be read (no permission, a folder, a bad name)."),
    "backdrop-unsupported": ("error", "The backdrop file is not a photo or clip qidsl shows (JPEG, PNG, WebP, "
                             "MP4/MOV, WebM/MKV, AVI)."),
    "backdrop-undecodable": ("error", "No picture of the backdrop file can be decoded."),
    "backdrop-from": ("error", "A backdrop's from is past the clip's end, or given for a photo."),
    "unknown-level": ("error", "The level is not beginner, intermediate or advanced."),
    "bad-variant": ("error", "A variant name that is not one word, is listed twice, or is all."),
    "duplicate-variant": ("error", "A for or unless that names a variant twice."),
    "bad-variant-block": ("error", "A for or unless without variant names, with quoted names, or with names "
                          "not separated by commas."),
    "empty-block": ("error", ("A block with nothing indented under it, and no comment saying it is empty on "
                              "purpose.")),
    "unknown-pose": ("error", "A pose that is neither in the library nor defined by the routine."),
    "unknown-joint": ("error", "A pose definition names a joint the figure does not have."),
    "angle-out-of-range": ("error", "An angle outside what its joint can turn."),
    "duplicate-joint": ("error", "A pose definition gives a joint twice."),
    "duplicate-pose": ("error", "Two poses defined with the same name."),
    "recursive-pose": ("error", "A pose defined from itself, or two poses that start from each other."),
    "pose-definition-not-top": ("error", "A pose defined inside a block."),
    "to-not-here": ("error", "to \"pose\" on a statement that cannot move the figure (say, pause, bell, note, "
                    "breathe)."),
    "syntax": ("error", "Something the grammar does not accept; the message says what was expected."),
    "internal-error": ("error", "qidsl itself failed on this file: a bug, please report it."),
    "duplicate-setting": ("warning", "A setting is given twice; the last one wins."),
    "breath-twice": ("warning", "Two inhales (or two exhales) in a row in the same block."),
    "unused-define": ("warning", "A sequence defined in this file but never played."),
    "cue-overruns-phase": ("warning", "A breath cue takes longer to say than its phase; the phase is stretched."),
    "long-routine": ("warning", "The routine runs longer than two hours."),
    "no-offline-voice": ("warning", "No offline voice speaks the routine's language: build stops unless "
                         "engine: gtts or a Piper voice file is given."),
    "backdrop-portrait": ("warning", "A portrait photo or clip in the landscape video: filling the frame crops it."),
    "backdrop-short": ("warning", "A backdrop clip shorter than a second: it loops more than once a second."),
    "empty-routine": ("warning", "A routine with a title but nothing to say or do."),
    "unknown-variant": ("warning", "A for or unless names a variant the routine does not declare."),
    "unused-variant": ("warning", "A declared variant that no for or unless block names."),
    "long-retention": ("warning", "The breath is held longer than the routine's level allows."),
    "long-fast-breathing": ("warning", "Fast breathing goes on longer than the routine's level allows."),
    "no-safety-note": ("warning", "A retention longer than 10 s in a routine without a note."),
    "move-too-fast": ("warning", "A move of the figure turns a joint faster than a class can follow (60 degrees "
                      "a second)."),
    "text-too-long": ("warning", "A text the video shows cannot be shown whole at 720p, even wrapped and "
                      "at its smallest size."),
}


def _uri(file: str) -> str:
    """A file's URI: relative as qidsl found it, or absolute for a path outside the current folder.

    A relative URI with ``..`` in it is not a valid artifact location for
    code scanning (it resolves outside the repository's root), so such a
    path is made absolute (``file:///…``).
    """
    path = PurePath(file)
    if not path.is_absolute() and ".." in path.parts:
        path = PurePath(os.path.abspath(file))
    if path.is_absolute():
        return PurePosixPath(path.as_posix()).as_uri() if path.as_posix().startswith("/") else path.as_uri()
    return quote(path.as_posix())


def _rule(code: str, severity: str) -> dict:
    level, text = RULES.get(code, (severity, code.replace("-", " ").capitalize() + "."))
    name = "".join(word.capitalize() for word in code.split("-"))
    return {
        "id": code,
        "name": name,
        "shortDescription": {"text": text},
        "fullDescription": {"text": text},
        "help": {"text": HELP},
        "defaultConfiguration": {"level": level},
    }


def to_sarif(diagnostics: list[Diagnostic], version: str) -> dict:
    """A SARIF 2.1.0 log of one qidsl run: every known rule, and a result per diagnostic."""
    rules = {code: _rule(code, level) for code, (level, _) in RULES.items()}
    for diagnostic in diagnostics:  # a code added since this table was written still gets a rule
        rules.setdefault(diagnostic.code, _rule(diagnostic.code, diagnostic.severity))
    index = {code: number for number, code in enumerate(rules)}
    results = []
    for diagnostic in diagnostics:
        span = diagnostic.span
        message = diagnostic.message + (f" ({diagnostic.hint})" if diagnostic.hint else "")
        results.append({
            "ruleId": diagnostic.code,
            "ruleIndex": index[diagnostic.code],
            "level": diagnostic.severity,
            "message": {"text": message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(span.file)},
                "region": {"startLine": span.line, "startColumn": span.column,
                           "endLine": span.end_line, "endColumn": max(span.end_column, span.column)},
            }}],
        })
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "qidsl", "version": version, "semanticVersion": version,
                                "rules": list(rules.values())}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
