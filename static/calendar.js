// The calendar page: drag a task to another day (month view: it keeps its time of day) or to a
// half-hour slot (week view: day and time), or to a day's all-day row (keeps its time of day).
// One POST to the task's move URL, answered with the calendar region (swapped by htmx) and a
// toast with Undo. From the keyboard, "Move" on a task opens a form with its Due field. Without
// this script the grid is hidden and the list by day has a date field per task (plain forms).
(function () {
  "use strict";
  let dragged = null;

  function calendar() { return document.getElementById("calendar"); }

  function dropTarget(node) {
    return node && node.closest ? node.closest("#calendar [data-drop-date]") : null;
  }

  function clearHover() {
    document.querySelectorAll("#calendar .drop-here").forEach(function (el) { el.classList.remove("drop-here"); });
  }

  document.addEventListener("dragstart", function (event) {
    const item = event.target.closest && event.target.closest("#calendar .cal-item[draggable=true]");
    if (!item) { return; }
    dragged = item;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.id);
    // After the browser has taken its picture of the item: let the slots under it get the events.
    window.setTimeout(function () {
      item.classList.add("is-dragged");
      const cal = calendar();
      if (cal) { cal.classList.add("cal-dragging"); }
    }, 0);
  });

  document.addEventListener("dragover", function (event) {
    const target = dragged && dropTarget(event.target);
    if (!target) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!target.classList.contains("drop-here")) {
      clearHover();
      target.classList.add("drop-here");
    }
  });

  document.addEventListener("dragleave", function (event) {
    const target = dropTarget(event.target);
    if (target && !target.contains(event.relatedTarget)) { target.classList.remove("drop-here"); }
  });

  function finish() {
    clearHover();
    if (dragged) { dragged.classList.remove("is-dragged"); }
    const cal = calendar();
    if (cal) { cal.classList.remove("cal-dragging"); }
    dragged = null;
  }

  document.addEventListener("drop", function (event) {
    const target = dragged && dropTarget(event.target);
    if (!target) { return; }
    event.preventDefault();
    const item = dragged;
    finish();
    const values = { date: target.dataset.dropDate, version: item.dataset.version };
    if (target.dataset.dropTime) { values.time = target.dataset.dropTime; }
    window.htmx.ajax("POST", item.dataset.moveUrl, { source: item, target: "#calendar", swap: "outerHTML", values: values });
  });

  document.addEventListener("dragend", finish);

  // "Move": the calendar's one move form (#cal-move) opens on the item, with its Due field (a date
  // for an all-day task). Save posts it like a drop; Escape or Cancel closes it.
  function moveForm() { return document.getElementById("cal-move"); }

  function closeMove(returnFocus) {
    const form = moveForm();
    if (!form || form.hidden) { return; }
    const item = form.closest(".cal-item");
    form.hidden = true;
    if (returnFocus && item) {
      const button = item.querySelector(".cal-move-button");
      if (button) { button.focus(); }
    }
  }

  function openMove(item, button) {
    const form = moveForm();
    if (!form) { return; }
    if (!form.hidden && form.closest(".cal-item") === item) { closeMove(true); return; }
    const due = form.querySelector("[name=due]");
    due.type = item.dataset.allDay ? "date" : "datetime-local";
    due.value = item.dataset.due || "";
    form.querySelector("[name=version]").value = item.dataset.version || "";
    form.action = item.dataset.moveUrl;
    document.getElementById("cal-move-title").textContent = ": " + (button.dataset.title || "");
    item.appendChild(form);
    form.hidden = false;
    due.focus();
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("#calendar .cal-move-button");
    if (button) { openMove(button.closest(".cal-item"), button); return; }
    if (event.target.closest && event.target.closest("#cal-move [data-cal-cancel]")) { closeMove(true); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.target.closest && event.target.closest("#cal-move")) {
      event.preventDefault();
      closeMove(true);
    }
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.id !== "cal-move") { return; }
    event.preventDefault();
    window.htmx.ajax("POST", form.action, { source: form, target: "#calendar", swap: "outerHTML" });
  });

  // The week view opens at 07:00 rather than midnight (and keeps its scroll after a swap).
  let scrolled = null;
  function scrollWeek() {
    const body = document.querySelector("#calendar .cal-body");
    if (!body) { return; }
    if (scrolled !== null) { body.scrollTop = scrolled; return; }
    const seven = body.querySelector(".cal-slot.row-s14");
    if (seven) { body.scrollTop = seven.offsetTop; }  // .cal-body is the slots' offsetParent
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    const body = document.querySelector("#calendar .cal-body");
    if (body && event.detail.target && event.detail.target.id === "calendar") { scrolled = body.scrollTop; }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "calendar") { scrollWeek(); }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", scrollWeek);
  } else {
    scrollWeek();
  }
})();
