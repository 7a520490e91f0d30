"""``qidsl lsp``: the language server, for editors (``pip install 'qidsl[lsp]'``).

:mod:`qidsl.lsp.features` answers the editor's questions from the front end
alone (no pygls): hover, completion, definitions, references, symbols,
folding and formatting, with positions as the front end counts them
(1-based lines, columns in characters). :mod:`qidsl.lsp.server` speaks the
protocol over standard input and output with pygls and converts positions to
the editor's (0-based, UTF-16 code units unless the editor asks otherwise).
"""

from __future__ import annotations


def main() -> int:
    """Serve the Language Server Protocol on standard input and output until the editor says stop."""
    try:
        from .server import serve
    except ImportError as exc:  # pygls is an optional extra
        import sys

        if exc.name not in ("pygls", "lsprotocol") and not str(exc.name or "").startswith(("pygls.", "lsprotocol.")):
            raise
        print("qidsl: the language server needs pygls: pip install 'qidsl[lsp]'", file=sys.stderr)
        return 1
    serve()
    return 0
