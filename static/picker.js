// Followup: the record picker, a WAI-ARIA 1.2 combobox with a listbox popup (templates/_macros.html,
// `record_picker`). Typing asks the server for up to ten matches (`data-picker-url`), each shown with
// what tells it apart (company, email); ArrowDown / ArrowUp move through them, Enter or a click picks
// one (its id goes into the hidden `<kind>_id` input), Escape closes the list. Without this script
// the form posts the typed name and the server resolves it, offering candidates when it is ambiguous.
(function () {
  "use strict";
  const DELAY = 200;

  function parts(input) {
    const picker = input.closest(".picker");
    return {
      picker: picker,
      hidden: picker.querySelector(".picker-id"),
      list: document.getElementById(input.getAttribute("aria-controls")),
    };
  }

  function options(list) {
    return Array.from(list.querySelectorAll("[role=option]:not([aria-disabled=true])"));
  }

  function isOpen(input) {
    return input.getAttribute("aria-expanded") === "true";
  }

  function open(input) {
    const list = parts(input).list;
    if (!list.children.length) { return; }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function close(input) {
    const list = parts(input).list;
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    options(list).forEach(function (option) { option.setAttribute("aria-selected", "false"); });
  }

  function activate(input, option) {
    const list = parts(input).list;
    options(list).forEach(function (other) { other.setAttribute("aria-selected", other === option ? "true" : "false"); });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function active(input) {
    const id = input.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  }

  function pick(input, option) {
    const p = parts(input);
    input.value = option.dataset.name || "";
    p.hidden.value = option.dataset.id || "";
    close(input);
    // Forms that follow their fields (the activity filter) hear about the pick.
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function search(input) {
    const p = parts(input);
    const query = input.value.trim();
    const seq = (input.pickerSeq || 0) + 1;
    input.pickerSeq = seq;
    if (!query) {
      p.list.replaceChildren();
      close(input);
      return;
    }
    const url = p.picker.dataset.pickerUrl + "?q=" + encodeURIComponent(query);
    window.fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (seq !== input.pickerSeq) { return; }  // a later keystroke asked again
        const doc = new DOMParser().parseFromString("<ul>" + html + "</ul>", "text/html");
        const items = Array.from(doc.body.firstChild.children);
        items.forEach(function (item, index) { item.id = p.list.id + "-" + index; });
        p.list.replaceChildren.apply(p.list, items);
        if (items.length && document.activeElement === input) { open(input); } else { close(input); }
      })
      .catch(function () { /* offline: the typed name is resolved on submit */ });
  }

  function isPicker(el) {
    return el instanceof HTMLInputElement && el.classList.contains("picker-query");
  }

  document.addEventListener("input", function (event) {
    const input = event.target;
    if (!isPicker(input)) { return; }
    parts(input).hidden.value = "";  // the text is no longer the picked record's name
    window.clearTimeout(input.pickerTimer);
    input.pickerTimer = window.setTimeout(function () { search(input); }, DELAY);
  });

  document.addEventListener("keydown", function (event) {
    const input = event.target;
    if (!isPicker(input) || event.altKey || event.ctrlKey || event.metaKey) { return; }
    const list = parts(input).list;
    const all = options(list);
    const current = active(input);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!isOpen(input)) {
        open(input);
        if (!list.children.length && input.value.trim()) { search(input); }
        if (!all.length) { return; }
      }
      if (!all.length) { return; }
      const index = all.indexOf(current);
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = index < 0 ? (step > 0 ? 0 : all.length - 1) : (index + step + all.length) % all.length;
      activate(input, all[next]);
    } else if (event.key === "Enter") {
      if (isOpen(input) && current) {
        event.preventDefault();  // pick, do not submit
        pick(input, current);
      }
    } else if (event.key === "Escape") {
      if (isOpen(input)) {
        event.preventDefault();
        event.stopPropagation();  // closing the list must not also cancel an inline edit
        close(input);
      }
    }
  }, true);

  // A press on an option picks it before the text box loses focus.
  document.addEventListener("mousedown", function (event) {
    const option = event.target.closest && event.target.closest(".picker-list [role=option]");
    if (!option || option.getAttribute("aria-disabled") === "true") { return; }
    event.preventDefault();
    const list = option.closest(".picker-list");
    const input = document.querySelector('[aria-controls="' + list.id + '"]');
    if (input) { pick(input, option); }
  });

  document.addEventListener("focusout", function (event) {
    if (isPicker(event.target)) { close(event.target); }
  });

  // A candidate chosen among an ambiguous name's (the no-JavaScript answer) fills the box too.
  document.addEventListener("change", function (event) {
    const radio = event.target;
    if (!(radio instanceof HTMLInputElement) || radio.type !== "radio" || !radio.closest(".picker-candidates")) { return; }
    const picker = radio.closest(".picker");
    picker.querySelector(".picker-query").value = radio.dataset.name || "";
    picker.querySelector(".picker-id").value = radio.value;
  });
})();
