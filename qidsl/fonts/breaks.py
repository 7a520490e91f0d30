"""Where a line of text may break: the rules captions and the screen's texts share.

From the BBC subtitle guidelines and Netflix's timed-text style guide: break
after punctuation or before a conjunction; never after an article, a
preposition or a possessive (they lean on what follows); never inside a
name ("Dan / Tian", "Waking / the Waist").  :class:`BreakRules` gives each
place between two words a cost, 0 natural to 50 wrong (100 for a break
that breaks two rules); the caption search
(:mod:`qidsl.renderers.captions`) and the screen's wrapping
(:func:`qidsl.fonts.textfit.wrap`) both choose their breaks by it.

Pure Python and small: ``qidsl check`` measures the screen's texts with it.
"""

from __future__ import annotations

from ..lazyre import LazyPattern
from collections.abc import Sequence

# Characters that may be wrapped on either side without a space: CJK
# ideographs, kana, CJK symbols/punctuation and fullwidth forms.  Hangul is
# written with spaces between words, so it wraps like Latin text.
UNSPACED = LazyPattern(r"[\u2e80-\u2fdf\u3000-\u30ff\u3100-\u312f\u31a0-\u31ff\u3400-\u4dbf"
                      r"\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")

# Words a line or a cue must not end with: they lean on what follows (BBC: keep an
# article with its noun, a preposition with its phrase, a conjunction with its clause).
CLINGING = {
    "en": "a an the to of in on at by for with from into onto upon over under about through across "
          "along around between behind towards toward without within than and or but nor if "
          "your my his her its our their this these those each every no",
    "de": "der die das den dem des ein eine einen einem einer eines und oder aber zu zum zur im in an am "
          "auf aus bei mit nach von vom vor über unter durch für gegen ohne um bis dein deine deinen "
          "ihr ihre ihren sein seine seinen mein meine meinen jede jeder jedes jedem jeden kein keine keinen "
          "diese dieser dieses diesem diesen",
    "fr": "le la les l' un une des du de d' au aux à et ou mais en dans sur sous avec pour par sans "
          "vers chez ton ta tes votre vos son sa ses mon ma mes ce cet cette ces",
    "es": "el la los las un una unos unas de del al a y o pero en con por para sin sobre entre hacia "
          "tu tus su sus mi mis este esta estos estas",
    "it": "il lo la i gli le un uno una di del della dei delle a al alla in nel nella con su per tra "
          "fra e o ma tuo tua tuoi tue suo sua",
    "pt": "o a os as um uma de do da dos das em no na nos nas com por para e ou mas teu tua seu sua",
    "nl": "de het een en of maar in op aan bij met van voor naar door over onder uit je jouw zijn haar",
}
# Softer: better not to end a line with a subject pronoun or an auxiliary before its verb.
LEANING = {
    "en": "i you we they he she it is are was were be been will would can could should not very "
          "as so then when while because which that who let",
}
# Small words that join the capitalised words of a name ("Rolling the Hands Backwards").
NAME_JOINERS = {"the", "of", "and", "de", "del", "la", "le", "du", "von", "van", "da", "di"}
# Words that open a clause: a break before them is the next best thing to punctuation.
CLAUSE_WORDS = frozenset("and or but so then while as when because until which who "
                         "und oder aber dann wenn weil während et ou mais puis quand "
                         "y o pero cuando mientras e ma quando mentre".split())
CLAUSE_END = (",", ";", ":", "—", "–", ")", "，", "、", "；", "：")
SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")
TRAILING = "\"'”’»)]"

NATURAL = 0.0  # after a full stop
WRONG = 50.0  # after an article or a preposition, inside a name, inside a word (each)
AVOID = 10.0  # after a pronoun or an auxiliary before its verb


def bare_word(text: str) -> str:
    """``text`` lower-cased without the quotes and brackets around it: the word the lists hold."""
    return text.strip(TRAILING + "\"'“‘«([").lower()


def is_capital(text: str) -> bool:
    """Whether ``text`` starts with a capital letter (quotes and brackets aside): a word of a name."""
    text = text.lstrip("\"'“‘«([")
    return bool(text) and text[0].isupper() and (text[0].isascii() or not UNSPACED.match(text[0]))


def _words(table: dict[str, str], language: str) -> frozenset[str]:
    return frozenset(table.get(language.split("-")[0].lower(), "").split())


class BreakRules:
    """The cost of breaking (a line or a cue) between two words of ``language``: 0 is natural, 50 is wrong."""

    def __init__(self, language: str = "en"):
        self.clinging = _words(CLINGING, language or "en")
        self.leaning = _words(LEANING, language or "en")
        # German writes every noun with a capital: two capitals in a row are not a name there.
        self.names = not (language or "en").lower().startswith("de")

    def cost(self, words: Sequence[str], k: int, spaced: bool = True) -> float:
        """Breaking before ``words[k]`` (after ``words[k - 1]``).

        ``spaced`` says a space separates the two; False is a cut inside a
        word (too long for a line) or between characters of a script written
        without spaces.
        """
        if k <= 0 or k >= len(words):
            return NATURAL
        before, after = words[k - 1], words[k]
        if not spaced and not (after[:1] > "~" and UNSPACED.match(after[:1])  # (no ASCII character is unspaced)
                               or before[-1:] > "~" and UNSPACED.match(before[-1:])):
            return WRONG  # inside a word too long for a line (a link), cut to fit
        end = before.rstrip(TRAILING)
        if end.endswith(SENTENCE_END):
            return NATURAL
        if end.endswith(CLAUSE_END):
            return 1.0
        word = bare_word(before)
        # Each rule broken costs WRONG: "Rolling the / Hands" (after an article, inside a name)
        # is worse than "Rolling the Hands / Backwards" when a long name must break somewhere.
        wrong = WRONG if word in self.clinging or word.endswith("'") else 0.0
        if self.names and (
                is_capital(before) and is_capital(after)  # "Dan / Tian"
                or is_capital(before) and bare_word(after) in NAME_JOINERS  # "Rolling / the Hands"
                and k + 1 < len(words) and is_capital(words[k + 1])
                or word in NAME_JOINERS and k >= 2 and is_capital(words[k - 2]) and is_capital(after)):  # "the / Waist"
            wrong += WRONG
        if wrong:
            return wrong
        if word in self.leaning:
            return AVOID
        if bare_word(after) in CLAUSE_WORDS:
            return 2.0  # before a conjunction: the clause starts on the new line
        return 4.0
