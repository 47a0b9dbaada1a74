/* homeops report: the dependency graph's pan, zoom, search, keyboard moves and node details.
   Plain script, no library: the SVG is already laid out; this only moves the view and reads #data. */
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("data").textContent);
  const svg = document.getElementById("graph");
  if (!svg) return;
  const canvas = document.getElementById("canvas");
  const viewport = document.getElementById("viewport");
  const details = document.getElementById("details");
  const search = document.getElementById("search");
  const count = document.getElementById("search-count");
  const width = svg.viewBox.baseVal.width, height = svg.viewBox.baseVal.height;
  const nodes = Array.from(svg.querySelectorAll(".node"));
  const edges = Array.from(svg.querySelectorAll(".edge"));
  const needs = data.nodes.map(() => []), users = data.nodes.map(() => []);
  for (const [need, user, kind] of data.edges) { needs[user].push([need, kind]); users[need].push([user, kind]); }
  const boxes = nodes.map((el) => {
    const m = /translate\(([-\d.]+),([-\d.]+)\)/.exec(el.getAttribute("transform"));
    return { x: +m[1], y: +m[2] };
  });

  // The SVG fills the canvas; the view is a translate + scale of #viewport.
  svg.removeAttribute("width"); svg.removeAttribute("height"); svg.removeAttribute("viewBox");
  let view = { x: 0, y: 0, k: 1 };
  function apply() { viewport.setAttribute("transform", `translate(${view.x},${view.y}) scale(${view.k})`); }
  function fit() {
    // A small graph gets a canvas its own height, not an empty three quarters of the screen.
    const w = canvas.clientWidth;
    const k0 = Math.min(w / width, 1);
    canvas.style.height = height * Math.max(k0, 0.35) + 24 < window.innerHeight * 0.72
      ? Math.max(height * Math.max(k0, 0.35) + 24, 260) + "px" : "";
    const h = canvas.clientHeight;
    const k = Math.min(w / width, h / height);
    // Fitting a tall graph whole makes it unreadable: fit the width, start at the top.
    view.k = Math.max(Math.min(k, 1), Math.min(w / width, 1), 0.35);
    view.x = Math.max((w - width * view.k) / 2, 0);
    view.y = 0;
    apply();
  }
  function zoom(factor, cx, cy) {
    const k = Math.min(Math.max(view.k * factor, 0.1), 4);
    if (cx === undefined) { cx = canvas.clientWidth / 2; cy = canvas.clientHeight / 2; }
    view.x = cx - (cx - view.x) * (k / view.k);
    view.y = cy - (cy - view.y) * (k / view.k);
    view.k = k;
    apply();
  }
  function reveal(i) {
    // Centre node i (zoomed in enough to read) unless it is already comfortably inside the canvas.
    const b = boxes[i], w = canvas.clientWidth - (details.hidden ? 0 : details.offsetWidth), h = canvas.clientHeight;
    let centre = view.k < 0.6;
    if (centre) view.k = 0.8;
    const sx = b.x * view.k + view.x, sy = b.y * view.k + view.y;
    if (centre || sx < 20 || sy < 20 || sx + 190 * view.k > w - 20 || sy + 30 * view.k > h - 20) {
      view.x = w / 2 - (b.x + 95) * view.k;
      view.y = h / 2 - (b.y + 15) * view.k;
    }
    apply();
  }
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = canvas.getBoundingClientRect();
    zoom(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  let drag = null;
  canvas.addEventListener("pointerdown", (e) => {
    if (e.target.closest(".node")) return;
    drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y };
    canvas.classList.add("dragging");
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drag) return;
    view.x = drag.vx + e.clientX - drag.x; view.y = drag.vy + e.clientY - drag.y; apply();
  });
  canvas.addEventListener("pointerup", () => { drag = null; canvas.classList.remove("dragging"); });
  document.getElementById("zoom-in").addEventListener("click", () => zoom(1.25));
  document.getElementById("zoom-out").addEventListener("click", () => zoom(0.8));
  document.getElementById("zoom-fit").addEventListener("click", fit);
  for (const box of document.querySelectorAll("[data-edge]")) {
    box.addEventListener("change", () => svg.classList.toggle("hide-" + box.dataset.edge, !box.checked));
  }

  // Selection: the node, what it needs and what needs it are lit, the rest dimmed.
  let selected = null;
  function light(i) {
    svg.classList.add("dim");
    for (const el of svg.querySelectorAll(".lit")) el.classList.remove("lit");
    nodes[i].classList.add("lit");
    for (const [j] of needs[i].concat(users[i])) nodes[j].classList.add("lit");
    for (const el of edges) if (+el.dataset.need === i || +el.dataset.user === i) el.classList.add("lit");
  }
  function unlight() {
    svg.classList.remove("dim");
    for (const el of svg.querySelectorAll(".lit")) el.classList.remove("lit");
  }
  function label(n) { return (n.namespace ? n.namespace + "/" : "") + n.name; }
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k.startsWith("data-")) e.setAttribute(k, v); else e[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }
  function nodeLink(j, kind) {
    const n = data.nodes[j];
    return el("li", {}, kind ? el("span", { class: "tag" }, kind) : null,
      el("button", { type: "button", class: "link", "data-i": j }, `${n.kind} ${label(n)}`));
  }
  function dependents(i) {
    const seen = new Set([i]), todo = [i];
    while (todo.length) for (const [j] of users[todo.pop()]) if (!seen.has(j)) { seen.add(j); todo.push(j); }
    seen.delete(i);
    return Array.from(seen);
  }
  function show(i, focusPanel) {
    const n = data.nodes[i];
    if (selected !== null) nodes[selected].classList.remove("selected");
    selected = i;
    nodes[i].classList.add("selected");
    light(i);
    details.replaceChildren();
    details.append(
      el("button", { type: "button", class: "close", ariaLabel: "close details", title: "close (Esc)" }, "×"),
      el("div", { class: "muted" }, n.kind + (data.many ? ` · cluster ${n.cluster}` : "")),
      el("h3", { id: "details-title" }, label(n)));
    const facts = el("dl");
    const fact = (k, v) => { if (v !== null && v !== undefined && v !== "") facts.append(el("dt", {}, k), el("dd", {}, v)); };
    fact("Defined in", n.path ? el("code", {}, n.path + (n.line ? ":" + n.line : "")) : "outside the repository");
    if (n.live) {
      const live = n.live;
      fact("Live", el("span", { class: "state s-" + (window.homeopsLiveClass || {})[live.state] }, live.state +
        (live.attempt ? ` ${live.attempt}/${live.attempts}` : "")));
      fact("Reason", live.reason);
      fact("Waits for", live.waits_for);
      fact("Revision", live.revision ? el("code", {}, live.revision) : null);
      fact("Drift", live.drift);
    }
    if (n.ready !== undefined) fact("Simulated", n.ready === null ? "never Ready" : `Ready at ${n.ready}`);
    details.append(facts);
    if (n.problems) {
      details.append(el("h4", {}, "Problems (doctor)"));
      details.append(el("ul", {}, ...n.problems.map((p) =>
        el("li", {}, el("b", {}, p.scenario), `: root cause ${p.root_cause.kind} ${p.root_cause.namespace}/${p.root_cause.name} (${p.root_cause.reason}). Fix: ${p.fix}`))));
    }
    if (n.findings.length) {
      details.append(el("h4", {}, `Findings (${n.findings.length})`));
      details.append(el("ul", {}, ...n.findings.map((k) => {
        const f = data.findings[k];
        return el("li", {}, el("span", { class: "sev sev-" + f.severity }, f.severity), " ",
          el("a", { href: "#rule-" + f.rule, class: "rule-link" }, f.rule), " ", f.message,
          f.hint ? el("div", { class: "fix" }, "fix: " + f.hint) : null);
      })));
    }
    if (needs[i].length) details.append(el("h4", {}, `Needs (${needs[i].length})`), el("ul", {}, ...needs[i].map(([j, k]) => nodeLink(j, k))));
    if (users[i].length) details.append(el("h4", {}, `Needed by (${users[i].length})`), el("ul", {}, ...users[i].map(([j, k]) => nodeLink(j, k))));
    const all = dependents(i);
    if (all.length > users[i].length) {
      details.append(el("details", {}, el("summary", {}, `Blocks ${all.length} objects if it fails`),
        el("ul", {}, ...all.map((j) => nodeLink(j)))));
    }
    if (n.yaml) details.append(el("details", {}, el("summary", {}, "Object (as Flux applies it)"), el("pre", {}, n.yaml)));
    details.hidden = false;
    reveal(i);
    if (focusPanel) details.focus();
  }
  function close() {
    if (selected === null) return;
    const i = selected;
    details.hidden = true;
    nodes[i].classList.remove("selected");
    selected = null;
    unlight();
    nodes[i].focus({ preventScroll: true });
  }
  details.addEventListener("click", (e) => {
    if (e.target.closest(".close")) { close(); return; }
    const link = e.target.closest("button[data-i]");
    if (link) { const j = +link.dataset.i; show(j); nodes[j].focus({ preventScroll: true }); }
  });

  // Keyboard: Enter/Space opens a node, arrows move to the nearest node that way, Esc closes.
  function nearest(i, dx, dy) {
    let best = -1, score = Infinity;
    const a = boxes[i];
    boxes.forEach((b, j) => {
      const x = b.x - a.x, y = b.y - a.y;
      const along = x * dx + y * dy;
      if (j === i || along <= 0) return;
      const s = along + 3 * Math.abs(x * dy - y * dx);
      if (s < score) { score = s; best = j; }
    });
    return best;
  }
  const arrows = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] };
  svg.addEventListener("keydown", (e) => {
    pointing = false;
    const node = e.target.closest(".node");
    if (!node) return;
    const i = +node.dataset.i;
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); show(i, false); }
    else if (arrows[e.key]) {
      e.preventDefault();
      const j = nearest(i, ...arrows[e.key]);
      if (j >= 0) { nodes[j].focus({ preventScroll: true }); reveal(j); if (selected !== null) show(j); }
    }
  });
  // A node focused by the keyboard is brought into view; one focused by a pointer is already under it
  // (moving it would turn the click into a drag).
  let pointing = false;
  svg.addEventListener("pointerdown", () => { pointing = true; });
  svg.addEventListener("focusin", (e) => {
    const node = e.target.closest(".node");
    if (node && !pointing) reveal(+node.dataset.i);
  });
  svg.addEventListener("click", (e) => {
    pointing = false;
    const node = e.target.closest(".node");
    if (node) { show(+node.dataset.i); node.focus({ preventScroll: true }); }
  });
  document.addEventListener("keydown", (e) => {
    const typing = e.target.matches && e.target.matches("input, textarea");
    if (e.key === "Escape") {
      if (e.target === search) { search.value = ""; runSearch(); return; }
      close();
    } else if (e.key === "/" && !typing) { e.preventDefault(); search.focus(); }
    else if (!typing && e.target.closest && e.target.closest("#canvas")) {
      if (e.key === "+" || e.key === "=") zoom(1.25);
      else if (e.key === "-") zoom(0.8);
      else if (e.key === "0") fit();
    }
  });

  // Search: matching nodes are outlined, the rest dimmed; Enter goes to the next match.
  let matches = [], at = -1;
  function runSearch() {
    const q = search.value.trim().toLowerCase();
    matches = []; at = -1;
    nodes.forEach((el, i) => {
      const n = data.nodes[i];
      const hit = q !== "" && `${n.kind} ${n.namespace}/${n.name}`.toLowerCase().includes(q);
      el.classList.toggle("match", hit);
      if (hit) matches.push(i);
    });
    if (q === "") { count.textContent = ""; if (selected === null) unlight(); return; }
    count.textContent = matches.length === 1 ? "1 match" : `${matches.length} matches`;
    svg.classList.add("dim");
    for (const el of svg.querySelectorAll(".lit")) el.classList.remove("lit");
    for (const i of matches) nodes[i].classList.add("lit");
  }
  search.addEventListener("input", runSearch);
  search.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || !matches.length) return;
    e.preventDefault();
    at = (at + 1) % matches.length;
    show(matches[at]);
    count.textContent = `${at + 1} of ${matches.length}`;
  });

  window.homeopsGraph = { show, reveal, close };
  fit();
})();
