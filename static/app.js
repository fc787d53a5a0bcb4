// Followup: small enhancements on top of htmx. Everything here is optional: pages work without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function typingIn(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function focusFirst(selectors) {
    for (const selector of selectors) {
      const el = document.querySelector(selector);
      if (el) { el.focus(); if (el.select) { el.select(); } return true; }
    }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      const form = event.target.closest && event.target.closest("[data-escape-cancels]");
      if (form) {
        const cancel = form.querySelector("[data-cancel]");
        if (!cancel) { return; }
        event.preventDefault();
        const url = cancel.getAttribute("data-hx-get");
        if (window.htmx && url) {
          // Direct, so it works even before htmx has wired up a just-swapped form.
          window.htmx.ajax("GET", url, { source: cancel, target: cancel.getAttribute("data-hx-target"), swap: cancel.getAttribute("data-hx-swap") });
        } else {
          cancel.click();
        }
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typingIn(event.target)) { return; }
    if (event.key === "/") {
      if (focusFirst(["#task-search", "#activity-search", "#record-search"])) { event.preventDefault(); }
    } else if (event.key === "n") {
      if (focusFirst(["#new-task-title"])) { event.preventDefault(); }
    } else if (event.key === "j" || event.key === "k") {
      moveRowFocus(event.key === "j" ? 1 : -1);
      event.preventDefault();
    } else if (event.key === "x" || event.key === "e") {
      const row = document.activeElement && document.activeElement.closest(".row");
      const control = row && row.querySelector(event.key === "x" ? ".task-check input[type=checkbox]" : ".row-actions [role=button]");
      if (control) { event.preventDefault(); control.click(); }
    }
  });

  // j / k: next / previous row, by its title link.
  function moveRowFocus(step) {
    const titles = Array.from(document.querySelectorAll(".row .row-title"))
      .map(function (el) { return el.tagName === "A" ? el : el.closest(".row").querySelector("[role=button]"); })
      .filter(Boolean);
    if (!titles.length) { return; }
    const current = document.activeElement && document.activeElement.closest(".row");
    let index = titles.findIndex(function (el) { return el.closest(".row") === current; });
    index = index < 0 ? (step > 0 ? 0 : titles.length - 1) : Math.min(titles.length - 1, Math.max(0, index + step));
    titles[index].focus();
    titles[index].scrollIntoView({ block: "nearest" });
  }

  // Contact picker: choosing a result puts its name in the box and keeps just that choice.
  document.addEventListener("change", function (event) {
    const radio = event.target;
    if (!(radio instanceof HTMLInputElement) || radio.type !== "radio" || !radio.closest(".picker-results")) { return; }
    const picker = radio.closest(".picker");
    const query = picker.querySelector(".picker-query");
    if (query) { query.value = radio.dataset.name || ""; }
    picker.querySelectorAll(".picker-option").forEach(function (option) {
      option.hidden = !option.contains(radio);
    });
  });

  // Plain (non-htmx) forms that ask first.
  document.addEventListener("submit", function (event) {
    const button = event.submitter;
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });

  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) { event.target.select(); }
  });

  // Copy buttons (`data-copy="#field"`): shown only where the script runs, since they need it.
  function showCopyButtons(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) { button.hidden = false; });
  }
  showCopyButtons(document);
  document.addEventListener("htmx:load", function (event) { showCopyButtons(event.target); });
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) { return; }
    const field = document.querySelector(button.dataset.copy);
    if (!field) { return; }
    function done() {
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
    } else {
      field.select();
      if (document.execCommand("copy")) { done(); }
    }
  });

  // A swapped row keeps the keyboard: focus goes to its title again (edit forms autofocus Title).
  let focusedRowId = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    const active = document.activeElement;
    focusedRowId = target && target.classList && target.classList.contains("row") &&
      (target.contains(active) || active === document.body) ? target.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusedRowId) { return; }
    const row = document.getElementById(focusedRowId);
    focusedRowId = null;
    const lost = !document.activeElement || document.activeElement === document.body;
    if (row && lost && !row.classList.contains("editing")) {
      const title = row.querySelector("a.row-title") || row.querySelector(".row-actions [role=button]");
      if (title) { title.focus(); }
    }
  });

  // Toasts: a short confirmation (`followup:toast` in HX-Trigger, crm/web/toasts.py), with an Undo
  // button when the action can be undone; failed requests say so the same way.
  function toast(message, undoUrl, undoTarget) {
    const box = document.getElementById("toast");
    if (!box) { return; }
    box.replaceChildren();
    const text = document.createElement("span");
    text.textContent = message;
    box.appendChild(text);
    if (undoUrl) {
      const undo = document.createElement("button");
      undo.type = "button";
      undo.className = "link toast-undo";
      undo.textContent = "Undo";
      undo.addEventListener("click", function () {
        box.hidden = true;
        const target = undoTarget && document.querySelector(undoTarget);
        window.htmx.ajax("POST", undoUrl, target ? { source: target, target: target, swap: "outerHTML" }
                                                 : { source: document.body, swap: "none" });
      });
      box.appendChild(undo);
    }
    box.hidden = false;
    window.clearTimeout(toast.timer);
    toast.timer = window.setTimeout(function () { box.hidden = true; }, undoUrl ? 10000 : 5000);
  }
  document.addEventListener("followup:toast", function (event) {
    const detail = event.detail || {};
    toast(detail.message || "", detail.undo_url || null, detail.undo_target || null);
  });
  document.addEventListener("htmx:responseError", function (event) {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    toast(status === 404 ? "That item no longer exists. Reload the page." :
          status === 400 ? "The request was refused. Reload the page and try again." :
          "Something went wrong (" + status + "). Try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Cannot reach the server. Check your connection.");
  });
  // Desktop notifications: the bell (rendered with the page, refreshed by htmx every 30 s) lists
  // the unread push reminders of the last minutes; each is shown once per browser.
  const SHOWN_KEY = "followup.desktop-shown";

  function shownIds() {
    try { return JSON.parse(window.localStorage.getItem(SHOWN_KEY) || "[]"); } catch (e) { return []; }
  }

  function remember(ids) {
    try { window.localStorage.setItem(SHOWN_KEY, JSON.stringify(ids.slice(-200))); } catch (e) { /* private mode */ }
  }

  function showDesktop(bell) {
    if (!bell || !("Notification" in window) || window.Notification.permission !== "granted") { return; }
    let items;
    try { items = JSON.parse(bell.dataset.desktop || "[]"); } catch (e) { return; }
    const shown = shownIds();
    items.forEach(function (item) {
      if (shown.indexOf(item.id) >= 0) { return; }
      shown.push(item.id);
      const note = new window.Notification(item.title, { body: item.body, tag: item.id });
      note.onclick = function () { window.focus(); window.location.href = item.url; };
    });
    remember(shown);
  }

  function offerDesktop() {
    const wanted = "Notification" in window && window.Notification.permission === "default";
    document.querySelectorAll("[data-enable-desktop]").forEach(function (button) { button.hidden = !wanted; });
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-enable-desktop]");
    if (!button || !("Notification" in window)) { return; }
    window.Notification.requestPermission().then(function () {
      offerDesktop();
      showDesktop(document.getElementById("bell"));
    });
  });

  // After any swap (the bell swaps itself out): what is new on it, and not yet shown.
  document.addEventListener("htmx:afterSettle", function () { showDesktop(document.getElementById("bell")); });

  function onReady() {
    offerDesktop();
    showDesktop(document.getElementById("bell"));
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onReady);
  } else {
    onReady();
  }
})();
