/* homeops diff: expand or collapse every object at once. */
"use strict";
(function () {
  const all = (open) => () => { for (const d of document.querySelectorAll("details.object")) d.open = open; };
  const expand = document.getElementById("expand"), collapse = document.getElementById("collapse");
  if (expand) expand.addEventListener("click", all(true));
  if (collapse) collapse.addEventListener("click", all(false));
})();
