"""The practice page (NAME.html) in a real headless chromium: seek, look, click, print.

The routine goes through the real front end; its speech is synthetic clips
of known length (tests/renderer_fixtures.py) so every time below is exact,
and the MP3 beside the page is a real ffmpeg encode the browser decodes.
"""

from __future__ import annotations

import io
import json
import math
import re

import pytest

from qidsl.compile import compile_routine
from qidsl.lang.loader import Loader
from qidsl.renderers.audio import mix
from qidsl.renderers.captions import caption_cues, srt_text
from qidsl.renderers.chapters import chapters
from qidsl.renderers.mp3 import write_mp3
from qidsl.renderers.page import page_html, sheet_html, write_page
from qidsl.renderers.timeline_json import timeline_dict
from qidsl.words import screen_words
from tests.browser import browser, open_page, seek, shown, wait_until  # noqa: F401 - browser is a fixture
from tests.renderer_fixtures import routine_timeline

ROUTINE = """\
title: "Page Test </script> & Co"
author: "Qi Studio"
note "This practice does not replace medical advice."

section "Arriving":
    say "Welcome to the page test."
    repeat 3 counted:
        inhale 4s "Breathe in."
        exhale 4s "Breathe out."

section "Sides":
    each side left, right:
        say "Turn to the {side}."
        hold 5s
    pause 3s

section "Closing":
    breathe 4-7-8 x2
    bell 2s
    say "When you are ready, let the breath settle into its own easy rhythm, soften the jaw and the shoulders, and notice how the whole body feels now."
    say "Thank you."
"""


def _timeline(tmp_path):
    return routine_timeline(tmp_path / "page-test.qi", ROUTINE)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("page")
    line, clips = _timeline(folder)
    write_mp3(folder / "page-test.mp3", mix(line, clips), 48000, line.settings.title, "Qi Studio",
              chapters(line))
    write_page(folder / "page-test.html", line, "page-test.mp3")
    (folder / "page-test.srt").write_text(srt_text(caption_cues(line)), encoding="utf-8")
    return line, folder / "page-test.html"


@pytest.fixture
def page(browser, built):  # noqa: F811 - the fixture above
    yield from open_page(browser, built[1])


def _event(line, kind, **where):
    for event in line.events:
        if event.kind == kind and all(getattr(event, k) == v for k, v in where.items()):
            return event
    raise AssertionError(f"no {kind} event with {where}")


def _nth(line, kind, n, **where):
    found = [e for e in line.events if e.kind == kind and all(getattr(e, k) == v for k, v in where.items())]
    return found[n]


def _ease(u):
    return 0.5 - 0.5 * math.cos(math.pi * min(1, max(0, u)))


# --- the file itself -------------------------------------------------------------------------

def test_page_embeds_exactly_the_timeline_json(tmp_path):
    line, _ = _timeline(tmp_path)
    text = page_html(line, "page-test.mp3")
    embedded = re.search(r'<script type="application/json" id="qidsl-timeline">(.*?)</script>', text, re.S).group(1)
    assert json.loads(embedded) == json.loads(json.dumps(timeline_dict(line)))
    # The title's '</script>' cannot close the script early, and is escaped in the markup.
    assert text.count("</script>") == 2
    assert "<title>Page Test &lt;/script&gt; &amp; Co</title>" in text


def test_page_is_self_contained(tmp_path):
    line, _ = _timeline(tmp_path)
    text = page_html(line, "my routine.mp3")
    assert '<audio id="audio" src="my%20routine.mp3"' in text
    assert not re.search(r'(src|href)="(https?:)?//', text)
    assert "<link" not in text and "@import" not in text and "url(" not in text


def test_sheet_folds_repeats_and_patterns_into_one_line_each(tmp_path):
    line, _ = _timeline(tmp_path)
    sheet = sheet_html(timeline_dict(line), screen_words("en"))
    assert sheet.count("3 times, counted:") == 1
    assert sheet.count("Breathe in.") == 1  # once, not three times
    assert "2 times:</span> <span class=\"step inhale\"><b>Breathe in 4s</b> <q>In.</q></span>" in sheet
    assert "<b>Hold 7s</b> <q>Hold.</q>" in sheet and "<b>Breathe out 8s</b> <q>Out.</q>" in sheet
    assert "Turn to the left." in sheet and "Turn to the right." in sheet
    assert "This practice does not replace medical advice." in sheet


def test_write_page_replaces_the_file_whole(tmp_path):
    line, _ = _timeline(tmp_path)
    target = tmp_path / "x.html"
    target.write_text("old", encoding="utf-8")
    write_page(target, line, "x.mp3")
    assert target.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --- in the browser --------------------------------------------------------------------------

def test_title_card_before_the_first_cue(page):
    seek(page, 1.0)
    assert shown(page)["card"] == "intro"
    assert page.locator("#card-notes").inner_text() == "This practice does not replace medical advice."
    assert not page.locator(".card-end").is_visible()


def test_counted_inhale_shows_caption_counter_phase_and_growing_pacer(page, built):
    line, _ = built
    inhale = _nth(line, "inhale", 1, section="Arriving")  # the second of three
    assert inhale.repetition.index == 2
    seek(page, inhale.start + 0.5)
    early = shown(page)
    seek(page, inhale.start + 3.0)
    late = shown(page)
    assert early["card"] == "" and early["section"] == "Arriving"
    assert early["caption"] == "Breathe in."
    assert early["counter"] == "Round 2 / 3"
    assert early["phase"] == "inhale" and early["label"] == "Breathe in"
    assert early["seconds"] == str(math.ceil(inhale.end - inhale.start - 0.5))
    assert early["level"] == pytest.approx(_ease(0.5 / inhale.duration), abs=0.01)
    assert late["level"] == pytest.approx(_ease(3.0 / inhale.duration), abs=0.01)
    assert early["radius"] == pytest.approx(26 + 60 * early["level"], abs=0.1)
    assert late["width"] > early["width"] * 1.5  # the disk on screen grew with the breath
    assert late["caption"] == ""  # the cue was said and has gone
    assert early["chapter"] == "Arriving"


def test_exhale_shrinks_the_pacer(page, built):
    line, _ = built
    exhale = _nth(line, "exhale", 2, section="Arriving")
    seek(page, exhale.start + 1.0)
    first = shown(page)
    seek(page, exhale.start + 3.5)
    second = shown(page)
    assert first["phase"] == second["phase"] == "exhale"
    assert first["counter"] == "Round 3 / 3"
    assert first["level"] > second["level"]
    assert second["seconds"] == "1"


def test_side_hold_and_next_section(page, built):
    line, _ = built
    say = _nth(line, "say", 0, side="right")
    seek(page, say.start + 0.2)
    now = shown(page)
    assert now["caption"] == "Turn to the right." and now["side"] == "Right" and now["section"] == "Sides"
    assert now["counter"] == "" and now["phase"] == ""
    hold = _nth(line, "hold", 0, side="right")
    seek(page, hold.start + 1.2)
    now = shown(page)
    assert now["phase"] == "hold" and now["label"] == "Hold" and now["level"] == 0.5
    assert now["seconds"] == str(math.ceil(hold.end - hold.start - 1.2))
    closing = _event(line, "section", text="Closing")
    seek(page, closing.start - 2.0)
    now = shown(page)
    assert now["phase"] == "pause" and now["next"] == "Next: Closing" and now["chapter"] == "Sides"
    assert now["level"] is None and now["radius"] == 0


def test_end_card(page, built):
    line, _ = built
    seek(page, line.duration - 1.0)
    assert shown(page)["card"] == "outro"
    assert page.locator(".card-end").inner_text() == "Thank you for practising"
    assert page.locator(".card-end").is_visible() and not page.locator("#card-notes").is_visible()


def test_clicking_a_chapter_moves_the_audio_there(page, built):
    line, _ = built
    closing = _event(line, "section", text="Closing")
    page.locator("#chapters button", has_text="Closing").click()
    wait_until(page, f"() => Math.abs(document.getElementById('audio').currentTime - {closing.start:f}) < 0.05")
    # The page draws on the audio's seeked event, just after its time has moved.
    wait_until(page, f"() => Math.abs(parseFloat(document.body.dataset.time) - {closing.start:f}) < 0.05")
    now = shown(page)
    assert now["chapter"] == "Closing" and now["section"] == "Closing"
    assert now["phase"] == "inhale"  # the 4-7-8 pattern starts the section


def test_keys_play_pause_and_skip(page):
    seek(page, 20.0)
    page.locator("body").press("ArrowRight")
    wait_until(page, "() => Math.abs(document.getElementById('audio').currentTime - 30) < 0.05")
    page.locator("body").press("ArrowLeft")
    wait_until(page, "() => Math.abs(document.getElementById('audio').currentTime - 20) < 0.05")
    page.locator("body").press(" ")
    wait_until(page, "() => !document.getElementById('audio').paused")
    # The button follows the audio's play and pause events, which come just after the state changes.
    wait_until(page, "() => document.getElementById('play').innerText === 'Pause'")
    wait_until(page, "() => document.getElementById('audio').currentTime > 20.2")
    page.locator("body").press(" ")
    wait_until(page, "() => document.getElementById('audio').paused")
    wait_until(page, "() => document.getElementById('play').innerText === 'Play'")


def test_space_after_clicking_a_chapter_plays_from_there(page, built):
    line, _ = built
    sides = _event(line, "section", text="Sides")
    page.locator("#chapters button", has_text="Sides").click()  # the button keeps the focus
    wait_until(page, f"() => Math.abs(document.getElementById('audio').currentTime - {sides.start:f}) < 0.05")
    page.keyboard.press(" ")
    wait_until(page, "() => document.getElementById('audio').currentTime > %f" % (sides.start + 0.3))
    page.keyboard.press(" ")
    wait_until(page, "() => document.getElementById('audio').paused")
    assert page.evaluate("() => document.getElementById('audio').currentTime") > sides.start + 0.3


def test_printed_page_is_a_short_sheet_with_every_section_and_cue(page, built):
    from pypdf import PdfReader

    line, _ = built
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4")))
    assert 1 <= len(pdf.pages) <= 2
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    assert "Total time " + "{}:{:02d}".format(*divmod(int(line.duration), 60)) in text
    for section in ("Arriving", "Sides", "Closing"):
        assert section in text
    cues = {e.text for e in line.events if e.kind in ("say", "inhale", "exhale", "hold") and e.text}
    for cue in cues - {str(n) for n in range(1, 4)}:  # the counted numbers are the counter, not cues
        assert cue in text, cue
    assert "This practice does not replace medical advice." in text
    assert "Play" not in text.split("Page Test")[0]  # the player is not printed


@pytest.mark.parametrize("size,scheme", [((1280, 800), "light"), ((390, 844), "dark")])
def test_nothing_overflows_on_desktop_or_phone(browser, built, size, scheme):  # noqa: F811
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, color_scheme=scheme)
    tab = context.new_page()
    tab.goto(built[1].as_uri())
    wait_until(tab, "() => document.getElementById('audio').readyState >= 1")
    line, _ = built
    seek(tab, _nth(line, "inhale", 0, section="Arriving").start + 1)
    # No element wider than the viewport, and the page never scrolls sideways.
    overflow = tab.evaluate("""() => {
        const w = document.documentElement.clientWidth;
        return [document.documentElement.scrollWidth - w,
                [...document.querySelectorAll('.player *, .chapters *')]
                    .filter(e => e.getBoundingClientRect().right > w + 1).map(e => e.id || e.className)];
    }""")
    assert overflow == [0, []]
    background = tab.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == ("rgb(246, 243, 235)" if scheme == "light" else "rgb(15, 27, 36)")
    context.close()


def _srt(text: str) -> list[tuple[float, float, str]]:
    """(start, end, text) of each cue of an SRT file, read as a player reads it."""
    def seconds(stamp: str) -> float:
        h, m, s = stamp.replace(",", ".").split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        start, end = lines[1].split(" --> ")
        cues.append((seconds(start), seconds(end), "\n".join(lines[2:])))
    return cues


def test_the_page_shows_exactly_the_srts_caption_cues_at_50_moments(page, built):
    from qidsl.renderers.video import Scene

    line, html_path = built
    cues = _srt(html_path.with_suffix(".srt").read_text(encoding="utf-8"))
    assert any("\n" in text for _, _, text in cues)  # two-line cues are among them
    edges = sorted({t for start, end, _ in cues for t in (start, end)})
    # 50 moments through the routine, none within 20 ms of a cue's start or end (seeking lands to the ms).
    moments = []
    t = 0.5
    while len(moments) < 50:
        if all(abs(t - edge) > 0.02 for edge in edges):
            moments.append(t)
        t = (t + line.duration / 53) % line.duration
    video = Scene(line, caption_cues(line))  # what the video draws at the same moments
    shown_cues = set()
    for t in moments:
        seek(page, t)
        now = shown(page)
        assert abs(now["time"] - t) < 0.01
        expected = next((text for start, end, text in cues if start <= t < end), "")
        card = now["card"]
        assert (now["caption"] if not card else "") == (expected if not card else ""), t
        shown_cues.add(expected)
        moment = video.at(t)
        if card:
            assert moment.screen.card == card, t
            continue
        screen = moment.screen
        assert (now["caption"], now["counter"], now["side"], now["next"], now["note"], now["label"]) == (
            "\n".join(screen.caption), screen.counter or "", screen.side or "", screen.next_up or "",
            screen.note or "", screen.phase or ""), t
        assert now["seconds"] == ("" if moment.seconds_left is None else str(moment.seconds_left)), t
    assert len(shown_cues - {""}) >= 8  # the moments did meet many different cues


def test_the_section_list_gives_each_section_the_start_the_class_sheet_prints(tmp_path):
    line, _ = _timeline(tmp_path)
    text = page_html(line, "page-test.mp3")
    listed = dict((name, when) for when, name in re.findall(
        r'<span class="when">([0-9:]+)</span> <span class="name">([^<]*)</span>', text))
    printed = dict((name, when) for when, name in re.findall(
        r'<h3><span class="when">([0-9:]+)–[0-9:]+</span> ([^<]*)</h3>', text))
    assert listed == printed == {"Arriving": "0:03", "Sides": listed["Sides"], "Closing": listed["Closing"]}
    assert 'data-start="3.000"' in text  # a click on it goes to where the section starts


def test_a_stay_reads_as_resting_with_the_breath_free_on_the_sheet(tmp_path):
    path = tmp_path / "stay.qi"
    path.write_text('title: "Stay"\n\nsection "Tree":\n    exhale 4s\n    stay 30s "Rest here."\n', encoding="utf-8")
    compiled = compile_routine(path, Loader())
    assert not compiled.diagnostics, compiled.diagnostics
    sheet = sheet_html(timeline_dict(compiled.estimate), screen_words("en"))
    assert '<span class="step stay"><b>Stay, breathe freely 30s</b> <q>Rest here.</q></span>' in sheet
    assert "Hold" not in sheet
    # The page reads the scene track: the stay's step is labelled so, its disk resting half full.
    data = re.search(r'<script type="application/json" id="qidsl-timeline">(.*?)</script>',
                     page_html(compiled.estimate, "stay.mp3"), re.DOTALL)
    assert data
    steps = [s for s in json.loads(data.group(1))["scene"]["steps"] if s["phase"] == "stay"]
    assert [(s["label"], s["pacer"]) for s in steps] == [
        ("Stay, breathe freely", {"from": 0.5, "to": 0.5, "ease": "cosine"})]
