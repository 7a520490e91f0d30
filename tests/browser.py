"""A real headless browser for the page tests: Debian's chromium driven by Playwright.

Never a downloaded browser (``playwright install`` cannot work offline):
Playwright is pointed at ``/usr/bin/chromium``, which ``.ci/run`` installs with
apt when it is missing.
"""

from __future__ import annotations

import os
import shutil
import time

import pytest

CHROMIUM = os.environ.get("QIDSL_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-default-apps", "--disable-extensions", "--disable-sync",
        "--no-first-run", "--mute-audio", "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def browser():
    """One chromium per test module (starting it costs a second or two)."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"{CHROMIUM} is not installed (.ci/run installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield instance
        finally:
            instance.close()


def wait_until(page, function: str, timeout: float = 15.0) -> None:
    """Poll the JavaScript ``function`` until it returns true.

    Playwright's wait_for_function evaluates a string, which the page's
    Content-Security-Policy (no 'unsafe-eval') rightly refuses; evaluate() is
    not eval, so the tests keep the page's own policy on.
    """
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(function):
                return
        except Error as exc:  # the page reloaded under us (qidsl watch): ask the new one
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {function}")
        time.sleep(0.02)


def open_page(browser, path):
    """A tab showing the page at ``path`` once its audio is ready (a generator, for a fixture to yield from).

    Any script error or console error on the page fails the test when the tab closes.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.goto(path.as_uri())
    wait_until(tab, "() => document.getElementById('audio').readyState >= 1")
    yield tab
    context.close()
    assert errors == []


def seek(page, seconds: float) -> None:
    """Move the page's audio to ``seconds`` and wait until the browser has got there."""
    page.evaluate("""t => new Promise((resolve, reject) => {
        const audio = document.getElementById('audio');
        const timer = setTimeout(() => reject(new Error('no seeked event')), 10000);
        audio.addEventListener('seeked', () => { clearTimeout(timer); resolve(); }, {once: true});
        audio.currentTime = t;
    })""", seconds)


def shown(page) -> dict:
    """What the page shows now, read from its elements."""
    return page.evaluate("""() => {
        const $ = id => document.getElementById(id);
        const text = id => $(id).hidden ? '' : $(id).textContent;
        const active = document.querySelector('#chapters li.active .name');
        return {
            time: parseFloat(document.body.dataset.time), audio: $('audio').currentTime,
            card: $('stage').dataset.card, section: text('section'), caption: $('caption').textContent,
            counter: text('counter'), side: text('side'), next: text('next'), note: text('note'),
            phase: $('pacer').dataset.phase, label: $('phase').textContent, seconds: $('seconds').textContent,
            level: $('pacer').dataset.level === '' ? null : parseFloat($('pacer').dataset.level),
            radius: parseFloat($('disk').getAttribute('r')),
            width: $('disk').getBoundingClientRect().width,
            chapter: active ? active.textContent : null,
        };
    }""")
