// The figure on the practice page: the same forward kinematics as qidsl/lang/poses.py's points(),
// from the skeleton's data (poses.skeleton_dict(), embedded in the page), so the page keeps no copy
// of the body's proportions.  tests/test_poses.py runs this file in node on every library pose and
// compares its points with Python's.
//   QiFigure.points(skeleton, angles, view, facing) -> {name: [x, y]} in the unit box (y down)
//   QiFigure.svg(skeleton, points, view, facing, options) -> an SVG <g> (markup) in unit-box units
//   QiFigure.VIEW_BOX: the viewBox that holds the unit box
"use strict";
var QiFigure = (function () {
  var RAD = Math.PI / 180;

  function towards(origin, degrees, length) {  // from straight down, towards +x positive (y down)
    var r = degrees * RAD;
    return [origin[0] + length * Math.sin(r), origin[1] + length * Math.cos(r)];
  }

  function bodyPoints(s, a, view) {  // body heights, pelvis at the origin (poses._body_points)
    var p = { pelvis: [0, 0] }, lean = a.lean, nod = a.neck, sides, i, side, arm, leg;
    if (view === "side") {
      p.neck = towards(p.pelvis, 180 - lean, s.torso * Math.cos(a["side-bend"] * RAD));
      p.head = towards(p.neck, 180 - lean - nod, s.head);
      var shift = s["shoulder-half"] * Math.sin(a.twist * RAD);
      sides = [["left", -1], ["right", 1]];
      for (i = 0; i < 2; i++) {
        side = sides[i][0];
        var sign = sides[i][1];
        p[side + "-shoulder"] = [p.neck[0] + sign * shift * Math.cos(lean * RAD),
                                 p.neck[1] + sign * shift * Math.sin(lean * RAD)];
        arm = a[side + "-shoulder"] - lean;
        p[side + "-elbow"] = towards(p[side + "-shoulder"], arm, s["upper-arm"]);
        arm += a[side + "-elbow"];
        p[side + "-wrist"] = towards(p[side + "-elbow"], arm, s.forearm);
        arm += a[side + "-wrist"];
        p[side + "-hand"] = towards(p[side + "-wrist"], arm, s.hand);
        p[side + "-hip"] = p.pelvis;
        leg = a[side + "-hip"] - lean;
        p[side + "-knee"] = towards(p[side + "-hip"], leg, s.thigh);
        leg -= a[side + "-knee"];
        p[side + "-ankle"] = towards(p[side + "-knee"], leg, s.shin);
        leg += 90 - s["foot-slope"] + a[side + "-ankle"];
        p[side + "-toe"] = towards(p[side + "-ankle"], leg, s.foot);
      }
      return p;
    }
    var bend = a["side-bend"] * RAD, twist = a.twist * RAD;
    p.neck = [s.torso * Math.sin(bend), -s.torso * Math.cos(bend) * Math.cos(lean * RAD)];
    p.head = [p.neck[0] + s.head * Math.sin(bend),
              p.neck[1] - s.head * Math.cos(bend) * Math.cos((lean + nod) * RAD)];
    var half = s["shoulder-half"] * Math.cos(twist);
    sides = [["left", 1], ["right", -1]];
    for (i = 0; i < 2; i++) {
      side = sides[i][0];
      var out = sides[i][1];
      p[side + "-shoulder"] = [p.neck[0] + out * half * Math.cos(bend), p.neck[1] + out * half * Math.sin(bend)];
      arm = -a["side-bend"] + out * a[side + "-shoulder"];
      p[side + "-elbow"] = towards(p[side + "-shoulder"], arm, s["upper-arm"]);
      arm -= out * a[side + "-elbow"];
      p[side + "-wrist"] = towards(p[side + "-elbow"], arm, s.forearm);
      arm -= out * a[side + "-wrist"];
      p[side + "-hand"] = towards(p[side + "-wrist"], arm, s.hand);
      p[side + "-hip"] = [out * s["hip-half"], 0];
      leg = out * a[side + "-hip"];
      p[side + "-knee"] = towards(p[side + "-hip"], leg, s.thigh);
      leg -= out * a[side + "-knee"];
      p[side + "-ankle"] = towards(p[side + "-knee"], leg, s.shin);
      leg += out * (90 - s["foot-slope"] + a[side + "-ankle"]);
      p[side + "-toe"] = towards(p[side + "-ankle"], leg, s["front-foot"]);
    }
    return p;
  }

  function thickness(name, view) {  // the lengths key of the radius drawn round a point (poses.thickness)
    if (name === "head") return "head-radius";
    if (name === "pelvis" || name === "neck") return view === "side" ? "torso-radius" : "limb-radius";
    if (/-(hip|knee|ankle)$/.test(name)) return "leg-radius";
    return "limb-radius";
  }

  function points(skeleton, angles, view, facing) {
    var s = skeleton.lengths, full = {}, k;
    for (k in skeleton.standing) full[k] = skeleton.standing[k];
    for (k in angles) full[k] = angles[k];
    var body = bodyPoints(s, full, view), lowest = -Infinity;
    for (k in body) lowest = Math.max(lowest, body[k][1] + s[thickness(k, view)]);
    var flip = view === "side" && facing === "left" ? -1 : 1, out = {};
    for (k in body) out[k] = [0.5 + flip * s.scale * body[k][0], 1 + s.scale * (body[k][1] - lowest)];
    return out;
  }

  function n(v) { return Math.round(v * 10000) / 10000; }
  function line(p, a, b, width, style) {
    return '<line x1="' + n(p[a][0]) + '" y1="' + n(p[a][1]) + '" x2="' + n(p[b][0]) + '" y2="' + n(p[b][1]) +
      '" stroke-width="' + n(width) + '" style="' + style + '"/>';
  }

  // The figure as figure.py draws it: capsules (round-capped lines), the torso seen from the front
  // a rounded trapezoid, the head a disc; a gap of `options.gap` (a colour, by default the page's
  // background) round the parts in front; from the side the far limbs at half strength.
  function svg(skeleton, p, view, facing, options) {
    options = options || {};
    var s = skeleton.lengths, unit = s.scale, ink = options.ink || "var(--accent)";
    var gapColour = options.gap || "var(--bg)";
    var limb = s["limb-radius"] * unit, gap = s.gap * limb, radius = {}, i;
    for (i = 0; i < skeleton.bones.length; i++) {
      radius[skeleton.bones[i][0] + " " + skeleton.bones[i][1]] = s[skeleton.bones[i][2]] * unit;
    }
    var fill = "stroke:" + ink, cut = "stroke:" + gapColour, parts = [];
    function chain(names) {
      var out = [];
      for (var j = 0; j + 1 < names.length; j++) out.push([names[j], names[j + 1], radius[names[j] + " " + names[j + 1]]]);
      return out;
    }
    function arm(side) { return chain([side + "-shoulder", side + "-elbow", side + "-wrist", side + "-hand"]); }
    function legOf(side) { return chain([side + "-hip", side + "-knee", side + "-ankle", side + "-toe"]); }
    function draw(list, style) {
      for (var i = 0; i < list.length; i++) parts.push(line(p, list[i][0], list[i][1], 2 * list[i][2], style));
    }
    function inFront(list, roots, clear) {  // a gap round the parts first (from `clear` past their roots)
      var i, a, b, dx, dy, length, q = {};
      for (i = 0; i < list.length; i++) {
        a = list[i][0]; b = list[i][1];
        q[a] = p[a]; q[b] = p[b];
        if (roots.indexOf(a) >= 0) {
          dx = p[b][0] - p[a][0]; dy = p[b][1] - p[a][1]; length = Math.hypot(dx, dy);
          if (length <= clear) continue;
          a = a + "-clear";
          q[a] = [p[list[i][0]][0] + dx * clear / length, p[list[i][0]][1] + dy * clear / length];
        }
        parts.push(line(q, a, b, 2 * (list[i][2] + gap), cut));
      }
      draw(list, fill);
    }
    var head = '<circle cx="' + n(p.head[0]) + '" cy="' + n(p.head[1]) + '" r="' + n(s["head-radius"] * unit) +
      '" style="fill:' + ink + '"/>';
    if (view === "front") {
      draw(legOf("left").concat(legOf("right")), fill);
      var corners = ["left-shoulder", "right-shoulder", "right-hip", "left-hip"].map(function (k) {
        return n(p[k][0]) + "," + n(p[k][1]);
      }).join(" ");
      parts.push('<polygon points="' + corners + '" stroke-width="' + n(2 * limb) +
        '" stroke-linejoin="round" style="fill:' + ink + ";" + fill + '"/>');
      draw(chain(["neck", "head"]), fill);
      parts.push(head);
      inFront(arm("left").concat(arm("right")), ["left-shoulder", "right-shoulder"], limb * s["shoulder-clear"]);
    } else {
      var near = facing === "left" ? "left" : "right", far = near === "left" ? "right" : "left";
      parts.push('<g style="opacity:' + s.far + '">');  // one group: where the far parts overlap, not darker
      draw(arm(far).concat(legOf(far)), fill);
      parts.push("</g>");
      draw(chain(["pelvis", "neck", "head"]), fill);
      parts.push(head);
      inFront(legOf(near), [near + "-hip"], (s["torso-radius"] + s["leg-radius"]) * unit);
      inFront(arm(near), [near + "-shoulder"], limb * s["shoulder-clear"]);
    }
    return '<g class="qidsl-figure" stroke-linecap="round">' + parts.join("") + "</g>";
  }

  return { points: points, svg: svg, VIEW_BOX: "-0.02 -0.02 1.04 1.04" };
})();
if (typeof module !== "undefined" && module.exports) module.exports = QiFigure;
