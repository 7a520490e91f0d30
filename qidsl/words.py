"""The few words qidsl itself says or shows, per language.

Everything else on screen and in the narration is the author's own text.
A language missing here falls back to English on screen and to silence for
the spoken breath-pattern words (a wrong language is worse than none).
To add a language, add one entry to each table, keyed by its primary subtag.
"""

from __future__ import annotations

# What the video shows: the breath phase, a pause, the next section, the end card, the counted
# round and the section's place among the sections (each filled with two numbers).  A `stay` says in
# words that the breath is free (never "Hold", which reads as holding the breath).
SCREEN = {
    "en": {"inhale": "Breathe in", "exhale": "Breathe out", "hold": "Hold", "stay": "Stay, breathe freely",
           "pause": "Pause", "next": "Next: {}", "end": "Thank you for practising",
           "round": "Round {} / {}", "place": "Section {} of {}"},
    "de": {"inhale": "Einatmen", "exhale": "Ausatmen", "hold": "Halten", "stay": "Bleiben, frei atmen",
           "pause": "Pause", "next": "Als Nächstes: {}", "end": "Danke fürs Üben",
           "round": "Runde {} / {}", "place": "Abschnitt {} von {}"},
    "fr": {"inhale": "Inspirez", "exhale": "Expirez", "hold": "Retenez", "stay": "Restez, respirez librement",
           "pause": "Pause", "next": "Ensuite : {}", "end": "Merci d'avoir pratiqué",
           "round": "Tour {} / {}", "place": "Partie {} sur {}"},
    "es": {"inhale": "Inhala", "exhale": "Exhala", "hold": "Sostén", "stay": "Quédate, respira libremente",
           "pause": "Pausa", "next": "A continuación: {}", "end": "Gracias por practicar",
           "round": "Ronda {} / {}", "place": "Sección {} de {}"},
    "it": {"inhale": "Inspira", "exhale": "Espira", "hold": "Trattieni", "stay": "Resta, respira liberamente",
           "pause": "Pausa", "next": "Poi: {}", "end": "Grazie per aver praticato",
           "round": "Giro {} / {}", "place": "Sezione {} di {}"},
    "pt": {"inhale": "Inspire", "exhale": "Expire", "hold": "Segure", "stay": "Fique, respire livremente",
           "pause": "Pausa", "next": "A seguir: {}", "end": "Obrigado por praticar",
           "round": "Rodada {} / {}", "place": "Seção {} de {}"},
    "nl": {"inhale": "Adem in", "exhale": "Adem uit", "hold": "Vasthouden", "stay": "Blijf, adem vrij",
           "pause": "Pauze", "next": "Hierna: {}", "end": "Dank je wel voor het oefenen",
           "round": "Ronde {} / {}", "place": "Deel {} van {}"},
    "zh": {"inhale": "吸气", "exhale": "呼气", "hold": "屏息", "stay": "保持姿势，自然呼吸",
           "pause": "暂停", "next": "下一节：{}", "end": "感谢练习",
           "round": "第 {} / {} 轮", "place": "第 {} 节，共 {} 节"},
    "ja": {"inhale": "吸って", "exhale": "吐いて", "hold": "止めて", "stay": "そのまま、楽に呼吸",
           "pause": "休止", "next": "次：{}", "end": "お疲れさまでした",
           "round": "{} / {} 回目", "place": "セクション {} / {}"},
}

# What the narrator says on each phase of a `breathe 4-7-8 x3` pattern.
PATTERN = {
    "en": {"inhale": "In.", "hold": "Hold.", "exhale": "Out."},
    "de": {"inhale": "Ein.", "hold": "Halten.", "exhale": "Aus."},
    "fr": {"inhale": "Inspirez.", "hold": "Retenez.", "exhale": "Expirez."},
    "es": {"inhale": "Inhala.", "hold": "Sostén.", "exhale": "Exhala."},
    "it": {"inhale": "Inspira.", "hold": "Trattieni.", "exhale": "Espira."},
    "pt": {"inhale": "Inspire.", "hold": "Segure.", "exhale": "Expire."},
    "nl": {"inhale": "In.", "hold": "Vast.", "exhale": "Uit."},
    "zh": {"inhale": "吸气。", "hold": "屏息。", "exhale": "呼气。"},
    "ja": {"inhale": "吸って。", "hold": "止めて。", "exhale": "吐いて。"},
}


def _primary(language: str) -> str:
    return language.split("-")[0].lower()


def screen_words(language: str) -> dict[str, str]:
    """On-screen labels for a routine in ``language`` (English when we have none)."""
    return SCREEN.get(_primary(language), SCREEN["en"])


def pattern_words(language: str) -> dict[str, str] | None:
    """Spoken breath-pattern words for ``language``, or None: the pattern is then silent."""
    return PATTERN.get(_primary(language))
