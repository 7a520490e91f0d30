"""The language server's answers worked out from the front end (qidsl.lsp.features), without the protocol."""

from __future__ import annotations

from pathlib import Path

from qidsl.compile import compile_routine
from qidsl.lang import model as m
from qidsl.lang.loader import Loader
from qidsl.lsp import features as f
from qidsl.timefmt import clock

SHIPPED = Path(__file__).resolve().parent.parent / "routines" / "rolling-the-hands-backwards.qi"


def test_hover_times_of_sections_are_those_of_the_front_ends_estimate():
    doc = f.analyse(str(SHIPPED), SHIPPED.read_text(encoding="utf-8"))
    # The server's check makes no events (as `qidsl check`): the estimate with its events is made here.
    estimate = compile_routine(SHIPPED, Loader()).estimate
    assert doc.compiled.estimate.events == () and doc.compiled.estimate.duration == estimate.duration
    plan = {event.text: event.duration for event in estimate.sections}
    sections = [node for node in doc.compiled.routine.body if isinstance(node, m.Section)]
    assert [s.name.value for s in sections] == list(plan)
    for section in sections:
        markdown, span = f.hover(doc, section.span.line, section.span.column)
        assert span == section.span
        assert f"Lasts about **{clock(plan[section.name.value])}** (estimated" in markdown


def test_nothing_to_say_about_a_document_that_cannot_be_read():
    doc = f.analyse("empty.qi", "")
    assert doc.compiled.routine is None
    assert f.hover(doc, 1, 1) is None and f.symbols(doc) == [] and f.folding(doc) == []
    assert f.definition(doc, 1, 1) is None and f.references(doc, 1, 1) == []
    assert f.formatted("empty.qi", "") is None
    assert [c.label for c in f.complete(doc, 1, 1)][:2] == ["title", "author"]


VARIANTS = '''title: "Waist"
variants: standing, seated

section "Waking":
    for seated:
        say "Sit tall."
    unless seated:
        say "Stand tall."
    for 
'''


def test_variant_blocks_get_hover_completion_and_a_place_in_the_outline():
    doc = f.analyse("waist.qi", VARIANTS)
    markdown, span = f.hover(doc, 5, 5)
    assert markdown.startswith("```qi\nfor a[, b]:\n```\n\nThe block plays only in the variants named")
    assert (span.line, span.end_line) == (5, 6)
    assert f.hover(doc, 7, 5)[0].startswith("```qi\nunless a[, b]:")
    assert [(c.label, c.start, c.end) for c in f.complete(doc, 9, 9)] == [("standing", 9, 9), ("seated", 9, 9)]
    assert [c.label for c in f.complete(doc, 2, 11)] == []  # `variants:` takes the author's own names
    (section,) = f.symbols(doc)
    assert [(s.name, s.kind) for s in section.children] == [("for seated", "variants"), ("unless seated", "variants")]
    level = f.analyse("l.qi", 'title: "T"\nlevel: \n')
    assert [c.label for c in f.complete(level, 2, 8)] == ["beginner", "intermediate", "advanced"]


def test_every_statement_of_the_model_has_a_keyword_and_help_for_hover():
    import typing

    kinds = typing.get_args(m.Statement)
    assert kinds  # a new statement must be taught to the server's hover (features.keyword, STATEMENT_HELP)
    for kind in kinds:
        if kind is m.Breath:
            continue
        node = object.__new__(kind)
        if kind is m.ForVariants:
            object.__setattr__(node, "unless", False)
        assert f.keyword(node) in f.STATEMENT_HELP, kind.__name__


def test_stay_is_completed_and_explained_apart_from_hold():
    doc = f.analyse("stay.qi", 'title: "T"\n\nsection "A":\n    exhale 6s\n    stay 20s "Rest here."\n    st\n')
    (stay,) = [c for c in f.complete(doc, 6, 7) if c.label == "stay"]
    assert (stay.detail, stay.text, stay.start, stay.end) == ('stay D "text"', "stay ", 5, 7)
    markdown, span = f.hover(doc, 5, 6)
    assert markdown.startswith('```qi\nstay D "text"\n```\n\nStay in the posture for D while the breath flows freely')
    assert (span.line, span.column) == (5, 5)
    hold = f.STATEMENT_HELP["hold"][1]
    assert "retention" in hold and "write `stay`" in hold
