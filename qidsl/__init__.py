"""qidsl: a small language for movement and breathwork routines.

``qidsl check`` parses and checks ``.qi`` scripts; ``qidsl build`` compiles
them into narration, captions, chapters and a captioned video.
"""

__version__ = "0.1.0"
