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
      const control = row && row.querySelector(event.key === "x" ? ".task-check input[type=checkbox]" : "button.edit");
      if (control) { event.preventDefault(); control.click(); }
    }
  });

  // j / k: next / previous row, by its title link.
  function moveRowFocus(step) {
    const titles = Array.from(document.querySelectorAll(".row .row-title"))
      .map(function (el) { return el.tagName === "A" ? el : el.closest(".row").querySelector("summary, button"); })
      .filter(Boolean);
    if (!titles.length) { return; }
    const current = document.activeElement && document.activeElement.closest(".row");
    let index = titles.findIndex(function (el) { return el.closest(".row") === current; });
    index = index < 0 ? (step > 0 ? 0 : titles.length - 1) : Math.min(titles.length - 1, Math.max(0, index + step));
    titles[index].focus();
    titles[index].scrollIntoView({ block: "nearest" });
  }

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

  // Focus after a swap: an opened form focuses its first field; a saved or cancelled row gets its
  // title back; after a delete, the next row (or the one before, or the list's heading) takes it.
  let swapFocus = null;
  function rowTitle(row) {
    return row && (row.querySelector("a.row-title") || row.querySelector("summary, button"));
  }
  function firstField(root) {
    const fields = root.querySelectorAll("[autofocus], input:not([type=hidden]), select, textarea");
    for (const field of fields) { if (field.offsetParent !== null) { return field; } }
    return null;
  }
  function sibling(row, step) {
    let el = step > 0 ? row.nextElementSibling : row.previousElementSibling;
    while (el && !(el.classList.contains("row") && el.id)) { el = step > 0 ? el.nextElementSibling : el.previousElementSibling; }
    return el;
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    const active = document.activeElement;
    swapFocus = null;
    if (!target || !target.classList || !target.classList.contains("row")) { return; }
    if (!(target.contains(active) || active === document.body || !active)) { return; }
    const next = sibling(target, 1);
    const previous = sibling(target, -1);
    const list = target.closest("section, main");
    swapFocus = { id: target.id, next: next && next.id, previous: previous && previous.id,
                  heading: list && list.querySelector("h1, h2") };
    // A removed row gets no afterSettle of its own (the event would fire on a detached element):
    // once this swap has taken the row out, and no later swap has begun, restore the focus here.
    const state = swapFocus;
    window.setTimeout(function () {
      if (swapFocus === state && !target.isConnected) { restoreFocus(); }
    }, 60);
  });
  document.addEventListener("htmx:afterSettle", restoreFocus);
  // A swapped-in form's [autofocus] field takes the focus at once, not when htmx settles the swap a
  // moment later: by then the user may have moved to another field, and htmx would take it back.
  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail.target;
    const root = target && (target.isConnected ? target : target.id && document.getElementById(target.id));
    const field = root && root.querySelector && root.querySelector("[autofocus]");
    if (!field) { return; }
    field.removeAttribute("autofocus");
    if (!root.contains(document.activeElement)) { field.focus(); }
  });
  function restoreFocus() {
    const wanted = swapFocus;
    swapFocus = null;
    if (!wanted) { return; }
    const row = document.getElementById(wanted.id);
    if (row && row.classList.contains("editing")) {
      const field = firstField(row);
      if (field && !row.contains(document.activeElement)) { field.focus(); }
      return;
    }
    const lost = !document.activeElement || document.activeElement === document.body;
    if (row && lost) {
      const title = rowTitle(row);
      if (title) { title.focus(); }
    } else if (!row) {
      const other = (wanted.next && document.getElementById(wanted.next)) ||
                    (wanted.previous && document.getElementById(wanted.previous));
      const target = other ? rowTitle(other) : wanted.heading;
      if (target) {
        if (!other) { target.setAttribute("tabindex", "-1"); }
        target.focus();
      }
    }
  }

  // "More" menus (<details class="more">): Escape closes the open one, a click elsewhere too.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    const menu = event.target.closest && event.target.closest("details.more[open]");
    if (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  }, true);
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.more[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.open = false; }
    });
  });

  // Phone layout: the filters wait behind a "Filters" button (shown only where this script runs).
  function showFilterToggles(root) {
    root.querySelectorAll(".filters-toggle").forEach(function (button) { button.hidden = false; });
  }
  showFilterToggles(document);
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest(".filters-toggle");
    if (!button) { return; }
    const panel = document.getElementById(button.getAttribute("aria-controls"));
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (panel) { panel.classList.toggle("is-open", open); }
  });

  // Toasts: a short confirmation (`followup:toast` in HX-Trigger, crm/web/toasts.py), with an Undo
  // button when the action can be undone; failed requests say so the same way.
  function toast(message, undoUrl, undoTarget, linkUrl) {
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
    if (linkUrl) {
      const link = document.createElement("a");
      link.href = linkUrl;
      link.className = "toast-link";
      link.textContent = "Open it";
      box.appendChild(link);
    }
    box.hidden = false;
    window.clearTimeout(toast.timer);
    toast.timer = window.setTimeout(function () { box.hidden = true; }, undoUrl || linkUrl ? 10000 : 5000);
  }
  document.addEventListener("followup:toast", function (event) {
    const detail = event.detail || {};
    toast(detail.message || "", detail.undo_url || null, detail.undo_target || null, detail.link_url || null);
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
  // Quick add: after × (or "Read them again") swaps the reading out, typing goes on in the box.
  document.addEventListener("htmx:afterSwap", function (event) {
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (source && source.matches && source.matches(".qa-remove, .qa-restore")) {
      const box = document.getElementById("new-task-title");
      if (box) { box.focus(); }
    }
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
