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
        if (cancel) { event.preventDefault(); cancel.click(); }
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typingIn(event.target)) { return; }
    if (event.key === "/") {
      if (focusFirst(["#task-search", "#activity-search", "#record-search"])) { event.preventDefault(); }
    } else if (event.key === "n") {
      if (focusFirst(["#new-task-title"])) { event.preventDefault(); }
    }
  });

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

  // When a row goes back from its edit form, keep the keyboard where it was.
  document.addEventListener("htmx:afterSwap", function (event) {
    const row = event.detail.target;
    if (row && row.classList && row.classList.contains("row") && !row.classList.contains("editing")) {
      const edit = row.querySelector(".row-actions [role=button]");
      if (edit && event.detail.requestConfig && event.detail.requestConfig.verb !== "post") { edit.focus(); }
    }
  });

  // Failed requests (other than 422 validation errors, which swap in place) say so.
  function toast(message) {
    const box = document.getElementById("toast");
    if (!box) { return; }
    box.textContent = message;
    box.hidden = false;
    window.clearTimeout(toast.timer);
    toast.timer = window.setTimeout(function () { box.hidden = true; }, 5000);
  }
  document.addEventListener("htmx:responseError", function (event) {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    toast(status === 404 ? "That item no longer exists. Reload the page." :
          status === 400 ? "The request was refused. Reload the page and try again." :
          "Something went wrong (" + status + "). Try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Cannot reach the server. Check your connection.");
  });
})();
