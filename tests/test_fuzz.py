"""The fuzzer, bounded: generated, mutated, random and cut routines never crash the front end, its JSON and
GitHub output stay valid, and fmt keeps the meaning of every clean routine (see tests/fuzzing.py).

The long run is `make fuzz` (tests/fuzz.py).  Time is not asserted here (the
machine is shared); tests/fuzz.py prints the slowest input.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzzing import ANY_INPUT, cut_bytes, examine, grammar_routines, mutated_routines, pathological

BOUNDED = settings(max_examples=150, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.large_base_example])


def _holds(data) -> None:
    outcome = examine(data)
    assert not outcome.failures, outcome.failures


@BOUNDED
@given(grammar_routines())
def test_routines_from_the_grammar(data):
    _holds(data)


@BOUNDED
@given(mutated_routines)
def test_mutated_valid_routines(data):
    _holds(data)


@BOUNDED
@given(cut_bytes())
def test_routines_cut_at_any_byte(data):
    _holds(data)


@settings(BOUNDED, max_examples=100)
@given(ANY_INPUT)
def test_any_input(data):
    _holds(data)


@pytest.mark.parametrize("name", sorted(pathological()))
def test_pathological_inputs(name):
    _holds(pathological()[name])


def test_the_fuzzer_can_fail():
    """examine() is not a rubber stamp: a front end that raised would be caught."""
    from unittest import mock

    with mock.patch("tests.fuzzing.compile_routine", side_effect=RecursionError("deep")):
        assert examine('title: "T"\nsay "x"\n').failures == (("exception", "RecursionError: deep"),)


@BOUNDED
@given(mutated_routines)
def test_parsing_on_from_a_mend_finds_what_parsing_from_the_top_finds(data):
    """qidsl.lang.resume goes on from the line break before a mended line; starting again from the top
    of the file (as before) must give the same diagnostics and the same routine, spans included."""
    from unittest import mock

    from qidsl.lang import model as m
    from qidsl.lang.parser import parse_text
    from qidsl.lang.resume import ResumableParse

    resumed = parse_text(data, "r.qi")
    with mock.patch.object(ResumableParse, "changed_from", lambda self, line: self.snapshots.clear()):
        restarted = parse_text(data, "r.qi")
    assert resumed.diagnostics == restarted.diagnostics
    assert resumed.routine == restarted.routine
    if resumed.routine is not None:
        spans = [[n.span for n in m.walk(r.routine.body)] + [s.span for s in r.routine.settings]
                 for r in (resumed, restarted)]
        assert spans[0] == spans[1]
