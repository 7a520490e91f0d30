// The practice page: draws what the video shows at the audio's current time.
// Everything comes from the scene track of the embedded timeline (the "scene" of
// NAME.timeline.json, worked out once by qidsl/renderers/scene.py, the same track the
// video is drawn from): this script only looks windows up and interpolates the pacer.
"use strict";
(function () {
  var T = JSON.parse(document.getElementById("qidsl-timeline").textContent);
  var S = T.scene;
  // The backdrops' stills beside the page, by file hash and in-point (qidsl/renderers/page.py).
  var POSTERS = JSON.parse(document.getElementById("backdrop").dataset.stills || "{}");
  var EPS = 1e-3;  // seeking lands within a millisecond of a start; count that as the start
  var $ = function (id) { return document.getElementById(id); };
  var audio = $("audio"), stage = $("stage"), pacer = $("pacer"), disk = $("disk");
  var seek = $("seek"), playButton = $("play");
  var figure = $("figure"), figureSvg = $("figure-svg"), F = S.figure || null;
  if (F) figureSvg.setAttribute("viewBox", QiFigure.VIEW_BOX);
  // The class sheet's figures: each section's first pose (the window page.py names), drawn once.
  Array.prototype.forEach.call(document.querySelectorAll(".sheet-figure[data-window]"), function (svg) {
    var w = F && F.windows[+svg.dataset.window];
    if (!w) return;
    svg.setAttribute("viewBox", QiFigure.VIEW_BOX);
    var points = QiFigure.points(F.skeleton, w.to, w.view, w.facing);
    svg.insertAdjacentHTML("beforeend", QiFigure.svg(F.skeleton, points, w.view, w.facing, { ink: "var(--muted)" }));
  });
  // The easings a scene's pacer names (docs/cli.md, "The scene track").
  var EASES = { cosine: function (u) { return 0.5 - 0.5 * Math.cos(Math.PI * u); } };

  function lastAtOrBefore(list, t) {  // index of the last item starting at or before t, -1 if none
    var lo = 0, hi = list.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (list[mid].start <= t + EPS) lo = mid + 1; else hi = mid; }
    return lo - 1;
  }
  function windowAt(track, t) {  // the window of a track showing at t, or null
    var i = lastAtOrBefore(track, t);
    return i >= 0 && t < track[i].end ? track[i] : null;
  }
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
  function showBackdrop(w) {
    // The still of the backdrop on now (its photo, or its clip's first frame), a file beside the page.
    var img = $("backdrop"), name = w ? POSTERS[w.media + ":" + String(w.from)] : "";
    if ((img.dataset.name || "") !== (name || "")) {
      img.dataset.name = name || "";
      if (name) img.src = encodeURIComponent(name); else img.removeAttribute("src");
    }
    img.hidden = !name;
  }
  function showCaption(el, cue, t) {
    // The caption is the SRT's cue (the scene's captions); with its words timed, one <span> a
    // word, the word being spoken marked.
    var key = cue ? cue.start + ":" + cue.lines.join("\n") : "";
    var words = cue && cue.words || [];
    if (el.dataset.cue !== key) {
      el.dataset.cue = key;
      el.textContent = "";
      if (cue && words.length) {
        cue.lines.forEach(function (line, n) {
          if (n) el.appendChild(document.createTextNode("\n"));
          line.split(" ").forEach(function (piece, m) {
            if (m) el.appendChild(document.createTextNode(" "));
            var span = document.createElement("span");
            span.textContent = piece;
            el.appendChild(span);
          });
        });
      } else if (cue) el.textContent = cue.lines.join("\n");
    }
    // The last word that has started, as the video marks it (qidsl/renderers/video.py).
    var now = -1;
    for (var j = 0; j < words.length && words[j].start <= t + EPS; j++) now = j;
    var spans = el.children;
    for (var i = 0; i < spans.length; i++) spans[i].classList.toggle("spoken", i === now);
    el.dataset.word = now < 0 ? "" : String(now);
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

  // The figure: its window of the scene at t, eased as the pacer and moved in the same steps as on
  // the video (w.steps a second, counted from the window's start), drawn by figure.js.
  function figureAt(w, t) {
    var angles = {}, joint;
    if (w.end <= w.start) return w.to;
    var u = Math.floor((t - w.start) * w.steps + 1e-6) / w.steps / (w.end - w.start);
    var k = EASES[w.ease](Math.min(1, Math.max(0, u)));
    for (joint in w.to) angles[joint] = w.from[joint] + (w.to[joint] - w.from[joint]) * k;
    return angles;
  }
  function showFigure(t, card) {
    var w = F && !card ? windowAt(F.windows, t) : null;
    figure.hidden = !w;
    if (!w) { figure.dataset.pose = ""; return; }
    var angles = figureAt(w, t), key = w.start + ":" + JSON.stringify(angles);
    if (figure.dataset.key === key) return;
    figure.dataset.key = key;
    figure.dataset.pose = w.pose;
    var points = QiFigure.points(F.skeleton, angles, w.view, w.facing);
    figureSvg.innerHTML = QiFigure.svg(F.skeleton, points, w.view, w.facing, { ink: "var(--muted)" });
  }

  function render(t) {
    t = Math.min(Math.max(t, 0), T.duration);
    var step = S.steps[Math.max(lastAtOrBefore(S.steps, t), 0)];
    var card = step.card || "";
    if (stage.dataset.card !== card) stage.dataset.card = card;
    if (card) showBackdrop(null);
    var phase = "", label = "", level = null, left = null;
    if (!card) {
      show($("section"), step.section);
      show($("counter"), step.counter);
      show($("side"), step.side);
      var cue = windowAt(S.captions, t), note = windowAt(S.notes, t), next = windowAt(S.next, t);
      showCaption($("caption"), cue, t);
      show($("note"), note && note.text);
      show($("next"), next && next.text);
      showBackdrop(windowAt(S.backdrop || [], t));
      phase = step.phase || "";
      label = step.label || "";
      var p = step.pacer;
      if (p) {
        var u = step.end > step.start ? (t - step.start) / (step.end - step.start) : 1;
        level = p.from === p.to ? p.to : p.from + (p.to - p.from) * EASES[p.ease](Math.min(1, Math.max(0, u)));
      }
      if (step.countdown) left = Math.max(1, Math.ceil(step.end - t - 1e-6));
    }
    showFigure(t, card);
    pacer.dataset.phase = phase;
    pacer.dataset.level = level === null ? "" : level.toFixed(3);
    disk.setAttribute("r", level === null ? 0 : (26 + (86 - 26) * level).toFixed(2));
    $("seconds").textContent = left === null ? "" : String(left);
    $("phase").textContent = label;
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
