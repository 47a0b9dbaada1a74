/* homeops report: the page around the graph: links to nodes from waves, the timeline and the live
   table, and the findings tabs (arrow keys move between tabs, as in the ARIA tabs pattern). */
"use strict";
(function () {
  window.homeopsLiveClass = { Ready: "ok", Reconciling: "wait", Blocked: "wait", Retrying: "bad", Stalled: "bad", Suspended: "off", Missing: "missing" };
  document.addEventListener("click", (e) => {
    const target = e.target.closest("main [data-i]:not(.node):not(#details *)");
    if (!target || !window.homeopsGraph) return;
    const i = +target.dataset.i;
    document.getElementById("graph-section").scrollIntoView();
    window.homeopsGraph.show(i);
    document.getElementById("n" + i).focus({ preventScroll: true });
  });
  for (const bar of document.querySelectorAll(".timeline .bar[data-i]")) {
    bar.setAttribute("tabindex", "0");
    bar.setAttribute("role", "button");
    bar.addEventListener("keydown", (e) => { if (e.key === "Enter") bar.dispatchEvent(new MouseEvent("click", { bubbles: true })); });
  }
  const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
  function select(tab) {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", on);
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    }
    tab.focus();
  }
  tabs.forEach((tab, n) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (e) => {
      if (e.key === "ArrowRight") select(tabs[(n + 1) % tabs.length]);
      if (e.key === "ArrowLeft") select(tabs[(n + tabs.length - 1) % tabs.length]);
    });
  });
  // A link to a rule opens its group (from a node's details or the by-file view).
  document.addEventListener("click", (e) => {
    const link = e.target.closest("a.rule-link");
    if (!link) return;
    const group = document.querySelector(link.getAttribute("href"));
    if (!group) return;
    if (tabs.length) select(tabs[0]);
    group.open = true;
  });
})();
