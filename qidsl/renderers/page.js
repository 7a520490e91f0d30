// The practice page: draws what the video shows at the audio's current time.
// Everything comes from the embedded timeline (the NAME.timeline.json data);
// the rules mirror qidsl/renderers/video.py's Scene.at and pacer.breath_levels.
"use strict";
(function () {
  var T = JSON.parse(document.getElementById("qidsl-timeline").textContent);
  var C = JSON.parse(document.getElementById("qidsl-config").textContent);
  var W = C.words;
  var EPS = 1e-3;  // seeking lands within a millisecond of a start; count that as the start
  var $ = function (id) { return document.getElementById(id); };
  var audio = $("audio"), stage = $("stage"), pacer = $("pacer"), disk = $("disk");
  var seek = $("seek"), playButton = $("play");
  var BREATH = { inhale: 1, exhale: 1, hold: 1, stay: 1 };

  var events = T.events.slice().sort(function (a, b) { return a.start - b.start; });
  var timed = events.filter(function (e) { return e.kind !== "section" && e.kind !== "note"; });
  var sections = events.filter(function (e) { return e.kind === "section"; });

  // Pacer levels (0 empty .. 1 full) at each timed event's start and end: pacer.breath_levels.
  var levels = [], previous = null;
  timed.forEach(function (e) {
    var level = null;
    if (e.kind === "inhale") level = [0, 1];
    else if (e.kind === "exhale") level = [1, 0];
    else if (e.kind === "hold") { var rest = previous ? previous[1] : 0.5; level = [rest, rest]; }
    else if (e.kind === "stay") level = [0.5, 0.5];  // the breath is free: the disk rests half full
    levels.push(level);
    previous = level;
  });

  // Notes inside sections show for a while (those before the first section are on the title card).
  var firstSection = sections.length ? sections[0].start : Infinity;
  var noteGroups = {};
  events.forEach(function (e) {
    if (e.kind !== "note" || !e.text) return;
    if (e.start < firstSection && T.notes.indexOf(e.text) >= 0) return;
    (noteGroups[e.start] = noteGroups[e.start] || []).push(e.text);
  });
  var noteStarts = Object.keys(noteGroups).map(Number).sort(function (a, b) { return a - b; });
  var notes = noteStarts.map(function (start, i) {
    var end = start + C.noteSeconds;
    if (i + 1 < noteStarts.length) end = Math.min(end, noteStarts[i + 1]);
    return { start: start, end: end, text: noteGroups[start].join(" ") };
  });

  function lastAtOrBefore(list, t) {  // index of the last item starting at or before t, -1 if none
    var lo = 0, hi = list.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (list[mid].start <= t + EPS) lo = mid + 1; else hi = mid; }
    return lo - 1;
  }
  function ease(u) { u = Math.min(1, Math.max(0, u)); return 0.5 - 0.5 * Math.cos(Math.PI * u); }
  function clock(s) {
    var whole = Math.floor(Math.max(0, s) + 1e-6), h = Math.floor(whole / 3600);
    var m = Math.floor((whole % 3600) / 60), sec = whole % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return h ? h + ":" + pad(m) + ":" + pad(sec) : m + ":" + pad(sec);
  }
  function show(el, text) {
    text = text || "";
    if (el.textContent !== text) el.textContent = text;
    el.hidden = !text;
  }
  function caption(event, t) {
    // The sentence being spoken, held a moment after it ends, until the next one starts.
    var speech = event.speech || [];
    for (var i = speech.length - 1; i >= 0; i--) {
      var s = speech[i];
      if (s.start <= t + EPS) {
        var until = Math.min(s.end + 1.5, event.end, i + 1 < speech.length ? speech[i + 1].start : Infinity);
        return t < until ? s.text : "";
      }
    }
    return "";
  }

  // The title card shows the routine's notes (disclaimers, props), as the video's does.
  T.notes.forEach(function (text) {
    var li = document.createElement("li");
    li.textContent = text;
    $("card-notes").appendChild(li);
  });

  var chapterItems = Array.prototype.slice.call(document.querySelectorAll("#chapters li"));
  var chapterStarts = chapterItems.map(function (li) {
    var b = li.querySelector("button");
    return { start: parseFloat(b.dataset.start), end: parseFloat(b.dataset.end), li: li };
  });

  function render(t) {
    t = Math.min(Math.max(t, 0), T.duration);
    var i = lastAtOrBefore(timed, t), e = timed[Math.max(i, 0)];
    var card = !e || e.kind === "intro" || e.kind === "outro" ? (e ? e.kind : "intro") : "";
    if (stage.dataset.card !== card) stage.dataset.card = card;
    var phase = "", level = null, left = null;
    if (!card) {
      show($("section"), e.section || "");
      var rep = e.repetition;
      show($("counter"), rep && rep.counted ? rep.index + " / " + rep.total : "");
      show($("side"), e.side ? e.side.charAt(0).toUpperCase() + e.side.slice(1) : "");
      $("caption").textContent = caption(e, t);
      var n = lastAtOrBefore(notes, t);
      show($("note"), n >= 0 && t < notes[n].end ? notes[n].text : "");
      var s = lastAtOrBefore(sections, t) + 1;
      show($("next"), s < sections.length && sections[s].start - t <= C.nextUpSeconds
        ? W.next.replace("{}", sections[s].text || "") : "");
      if (BREATH[e.kind]) {
        phase = e.kind;
        var lv = levels[i], u = e.end > e.start ? (t - e.start) / (e.end - e.start) : 1;
        level = lv[0] === lv[1] ? lv[1] : lv[0] + (lv[1] - lv[0]) * ease(u);
      } else if (e.kind === "pause") phase = "pause";
      if (phase) left = Math.max(1, Math.ceil(e.end - t - 1e-6));
    }
    pacer.dataset.phase = phase;
    pacer.dataset.level = level === null ? "" : level.toFixed(3);
    disk.setAttribute("r", level === null ? 0 : (26 + (86 - 26) * level).toFixed(2));
    $("seconds").textContent = left === null ? "" : String(left);
    $("phase").textContent = phase ? W[phase] : "";
    var active = -1;
    chapterStarts.forEach(function (c, k) { if (c.start <= t + EPS && (t < c.end || k === chapterStarts.length - 1)) active = k; });
    chapterStarts.forEach(function (c, k) {
      var on = k === active;
      c.li.classList.toggle("active", on);
      if (on) c.li.setAttribute("aria-current", "true"); else c.li.removeAttribute("aria-current");
    });
    if (!dragging) seek.value = t.toFixed(1);
    $("clock").textContent = clock(t) + " / " + clock(T.duration);
    document.body.dataset.time = t.toFixed(3);
  }

  // The audio clock drives everything; between its events a frame loop keeps the pacer smooth.
  var dragging = false, frame = 0;
  function now() { return audio.currentTime || 0; }
  function loop() { render(now()); frame = audio.paused ? 0 : requestAnimationFrame(loop); }
  function status(text) { show($("status"), text); }
  seek.max = T.duration.toFixed(1);
  ["timeupdate", "seeked", "seeking", "loadedmetadata", "pause", "ended"].forEach(function (name) {
    audio.addEventListener(name, function () { render(now()); });
  });
  audio.addEventListener("play", function () { playButton.textContent = "Pause"; status(""); if (!frame) loop(); });
  audio.addEventListener("pause", function () { playButton.textContent = "Play"; });
  audio.addEventListener("error", function () {
    status("The narration " + audio.dataset.name + " could not be loaded: keep it in the same folder as this page.");
  });
  function jump(t) {
    t = Math.min(Math.max(t, 0), T.duration);
    try { audio.currentTime = t; } catch (err) { /* not loaded yet */ }
    render(t);
  }
  function toggle() {
    if (audio.paused) {
      var p = audio.play();
      if (p && p.catch) p.catch(function () { status("Press Play to start the narration."); });
    } else audio.pause();
  }
  function chapterJump(step) {
    var t = now(), k = -1;
    chapterStarts.forEach(function (c, j) { if (c.start <= t + EPS) k = j; });
    // Back within the first 2 s of a section goes to the one before, as music players do.
    if (step < 0 && k >= 0 && t - chapterStarts[k].start > 2) step = 0;
    var target = chapterStarts[Math.min(Math.max(k + step, 0), chapterStarts.length - 1)];
    if (target) jump(target.start);
  }
  playButton.addEventListener("click", toggle);
  $("back").addEventListener("click", function () { jump(now() - 10); });
  $("forward").addEventListener("click", function () { jump(now() + 10); });
  seek.addEventListener("input", function () { dragging = true; render(parseFloat(seek.value)); });
  seek.addEventListener("change", function () { dragging = false; jump(parseFloat(seek.value)); });
  chapterStarts.forEach(function (c) {
    c.li.querySelector("button").addEventListener("click", function () { jump(c.start); });
  });
  // Space on a focused button would also "click" it on keyup (replaying a chapter's start): the
  // page's own Space handling wins.
  document.addEventListener("keyup", function (ev) {
    if ((ev.key === " " || ev.key === "Spacebar") && ev.target && ev.target.tagName === "BUTTON") ev.preventDefault();
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    var tag = ev.target && ev.target.tagName;
    if (ev.key === " " || ev.key === "Spacebar") {
      if (tag === "INPUT" && ev.target.type !== "range") return;
      ev.preventDefault(); toggle();
    } else if (ev.key === "ArrowLeft" || ev.key === "ArrowRight") {
      ev.preventDefault();
      var forward = ev.key === "ArrowRight";
      if (ev.shiftKey) chapterJump(forward ? 1 : -1); else jump(now() + (forward ? 10 : -10));
    }
  });

  // qidsl watch: restore the position a reload interrupted, then follow new builds.
  var watch = window.qidslWatch;
  var keyName = "qidsl-position:" + location.pathname;
  if (watch) {
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(keyName) || "null"); sessionStorage.removeItem(keyName); } catch (err) { saved = null; }
    if (saved) {
      var restore = function () {
        jump(saved.time);
        if (saved.playing) toggle();
      };
      if (audio.readyState >= 1) restore(); else audio.addEventListener("loadedmetadata", restore, { once: true });
      render(saved.time);
    }
    var showDiagnostics = function (text) {
      $("diagnostics-text").textContent = text || "";
      $("diagnostics").hidden = !text;
    };
    var poll = function () {
      fetch(watch.state, { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (state) {
        showDiagnostics(state.diagnostics);
        if (state.version !== watch.version && state.ready) {
          sessionStorage.setItem(keyName, JSON.stringify({ time: now(), playing: !audio.paused }));
          location.reload();
          return;
        }
        setTimeout(poll, watch.interval);
      }).catch(function () { setTimeout(poll, 1000); });  // the server stopped: keep the page, try now and then
    };
    showDiagnostics(watch.diagnostics);
    setTimeout(poll, watch.interval);
  }
  window.qidslPage = { render: render, jump: jump };
  render(0);
})();
