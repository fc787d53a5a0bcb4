// Followup: selecting task rows for the bulk bar (templates/tasks/_bulk_bar.html). Optional: without
// it, the selection boxes and the bar's buttons post the same form.
(function () {
  "use strict";
  let last = null; // the selection box clicked last, for shift-click ranges

  function boxes() {
    return Array.from(document.querySelectorAll("#task-list .task-select"));
  }

  function showCount() {
    const all = boxes();
    const chosen = all.filter(function (box) { return box.checked; }).length;
    const count = document.querySelector("#bulk .bulk-count");
    if (count) { count.textContent = chosen ? chosen + " selected" : ""; }
    const every = document.querySelector("#bulk .bulk-select-all");
    if (every) {
      every.checked = all.length > 0 && chosen === all.length;
      every.indeterminate = chosen > 0 && chosen < all.length;
    }
  }

  document.addEventListener("click", function (event) {
    const box = event.target;
    if (!(box instanceof HTMLInputElement)) { return; }
    if (box.classList.contains("task-select")) {
      const all = boxes();
      if (event.shiftKey && last && last !== box && all.includes(last)) {
        const from = all.indexOf(last);
        const to = all.indexOf(box);
        all.slice(Math.min(from, to), Math.max(from, to) + 1).forEach(function (each) { each.checked = box.checked; });
      }
      last = box;
      showCount();
    } else if (box.classList.contains("bulk-select-all")) {
      boxes().forEach(function (each) { each.checked = box.checked; });
      showCount();
    }
  });

  // A swapped list starts with nothing selected.
  document.addEventListener("htmx:afterSettle", function () { last = null; showCount(); });
})();
