// Switchboard's only script: small behaviours that htmx attributes cannot express.
(function () {
  "use strict";

  // --- toasts: every action's outcome, from Django's messages (page loads) and from htmx answers ---
  const TOAST_MS = 6000;

  function toastBox() { return document.getElementById("toasts"); }

  function arm(toast) {
    if (toast.dataset.armed) return;
    toast.dataset.armed = "1";
    const close = document.createElement("button");
    close.type = "button";
    close.className = "sb-toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", function () { toast.remove(); });
    toast.appendChild(close);
    // Errors stay until dismissed; the rest leave on their own (but not while hovered or focused).
    if (!toast.classList.contains("sb-toast-danger")) {
      const leave = function () {
        if (toast.matches(":hover") || toast.contains(document.activeElement)) { setTimeout(leave, TOAST_MS); return; }
        toast.remove();
      };
      setTimeout(leave, TOAST_MS);
    }
  }

  function toast(text, level) {
    const box = toastBox();
    if (!box || !text) return;
    const el = document.createElement("div");
    el.className = "sb-toast sb-toast-" + (level || "info");
    el.textContent = text;
    box.appendChild(el);
    arm(el);
  }
  window.sbToast = toast;

  // --- the navigation: a menu button below 992 px, and "/" to search from anywhere ---
  function setUpNavigation() {
    const toggle = document.getElementById("nav-toggle");
    const menu = document.getElementById("nav-menu");
    if (toggle && menu) {
      toggle.addEventListener("click", function () {
        const open = menu.classList.toggle("show");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target;
      if (target && (target.isContentEditable || target.closest("input, textarea, select, [contenteditable]"))) return;
      const search = document.getElementById("nav-q");
      if (!search) return;
      event.preventDefault();
      if (menu && toggle && !menu.classList.contains("show") && getComputedStyle(toggle).display !== "none") {
        menu.classList.add("show");
        toggle.setAttribute("aria-expanded", "true");
      }
      search.focus();
      search.select();
    });
  }

  // --- tables: on a phone each row is a card, each cell labelled with its column's header ---
  function labelCells(root) {
    (root || document).querySelectorAll("main table.table").forEach(function (table) {
      const heads = table.tHead ? Array.from(table.tHead.rows[0] ? table.tHead.rows[0].cells : []) : [];
      if (!heads.length) return;
      // The column's name as seen: not a sort link's words for screen readers ("sort by this column")
      // nor its arrow.
      const labels = heads.map(function (th) {
        const seen = th.cloneNode(true);
        seen.querySelectorAll(".visually-hidden, [aria-hidden=true]").forEach(function (el) { el.remove(); });
        return seen.textContent.trim();
      });
      Array.from(table.tBodies).forEach(function (body) {
        Array.from(body.rows).forEach(function (row) {
          let column = 0;
          Array.from(row.cells).forEach(function (cell) {
            if (!cell.hasAttribute("data-label") && labels[column] !== undefined) cell.setAttribute("data-label", labels[column]);
            column += cell.colSpan || 1;
          });
        });
      });
    });
  }

  // --- busy state: an action on its way shows a spinner and its button is disabled, so neither a
  // second click nor Enter can send it twice ---
  function submitButtons(el) {
    if (el.matches("button, input[type=submit]")) return [el];
    return Array.from(el.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]"));
  }
  function disable(el) {
    submitButtons(el).forEach(function (button) {
      if (button.disabled) return;
      button.disabled = true;
      button.dataset.sbBusy = "1";
    });
  }
  function enable(el) {
    el.classList.remove("sb-busy");
    el.removeAttribute("aria-busy");
    el.querySelectorAll("[data-sb-busy]").forEach(function (button) { button.disabled = false; delete button.dataset.sbBusy; });
    if (el.dataset.sbBusy) { el.disabled = false; delete el.dataset.sbBusy; }
  }

  // Plain (non-htmx) forms: busy until the next page arrives.
  function markBusy(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
    if (form.hasAttribute("hx-post") || form.hasAttribute("hx-get") || form.method.toLowerCase() !== "post") return;
    if (form.classList.contains("sb-busy")) { event.preventDefault(); return; }
    form.classList.add("sb-busy");
    form.setAttribute("aria-busy", "true");
    // Disabled only after this turn: the browser has then read the form, the clicked button's own
    // name and value included (a button disabled now would be left out).
    setTimeout(function () { disable(form); }, 0);
  }

  // htmx actions (not the refreshes and filters, which are GETs): busy until the answer is in.
  function setUpBusyActions() {
    document.addEventListener("htmx:beforeSend", function (event) {
      const el = event.detail.elt;
      const config = event.detail.requestConfig;
      if (!(el instanceof Element) || !config || config.verb === "get") return;
      // Marked on the element itself: an inherited hx-indicator (the queue's) would light up elsewhere.
      el.classList.add("sb-busy");
      el.setAttribute("aria-busy", "true");
      disable(el);
    });
    document.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.elt instanceof Element) enable(event.detail.elt);
    });
  }

  // --- the action queue's refresh: never under someone's hands ---
  // The row a person is on (focus inside it, or the pointer over it) is kept as it is; the other rows
  // take the new version; new rows are inserted and announced quietly; nothing takes focus or scrolls.
  function keyOf(el) {
    return el.id || el.getAttribute("href") || (el.tagName + "." + el.className.replace(/\s*htmx-\S+/g, ""));
  }

  function held(el) {
    const active = document.activeElement;
    return (active && active !== document.body && el.contains(active)) || el.matches(":hover") ||
      !!el.querySelector("details[open]");
  }

  // A new row stays marked for a while, also when later refreshes bring a fresh copy of it.
  const NEW_MS = 30000;
  function markNew(row, since) {
    row.classList.add("queue-item-new");
    row.dataset.newSince = String(since || Date.now());
  }
  function carryNewMarks(old, fresh) {
    const pairs = old.matches("li.queue-item") ? [[old, fresh]] : Array.from(old.querySelectorAll("li.queue-item-new")).map(function (row) {
      return [row, fresh.querySelector("#" + CSS.escape(row.id))];
    });
    pairs.forEach(function (pair) {
      const since = Number(pair[0].dataset.newSince || 0);
      if (pair[1] && since && Date.now() - since < NEW_MS) markNew(pair[1], since);
    });
  }

  function reconcile(oldParent, newParent) {
    let added = 0;
    const oldByKey = new Map();
    Array.from(oldParent.children).forEach(function (el) { oldByKey.set(keyOf(el), el); });
    const kept = new Set();
    let previous = null;
    Array.from(newParent.children).forEach(function (fresh) {
      const old = oldByKey.get(keyOf(fresh));
      let placed = fresh;
      if (old && !kept.has(old)) {
        kept.add(old);
        if (held(old)) {
          // The person is on this row (or inside this group): keep the row, refresh what is around it.
          if (!old.matches("li.queue-item")) added += reconcile(old, fresh);
          placed = old;
        } else {
          carryNewMarks(old, fresh);
          old.replaceWith(fresh);
          htmx.process(fresh);
        }
      } else {
        const rows = fresh.matches("li.queue-item") ? [fresh] : Array.from(fresh.querySelectorAll("li.queue-item"));
        added += rows.length;
        rows.forEach(markNew);
        if (previous) previous.after(fresh); else oldParent.prepend(fresh);
        htmx.process(fresh);
      }
      previous = placed;
    });
    oldByKey.forEach(function (old) {
      if (!kept.has(old) && !held(old) && old.isConnected) old.remove();
    });
    return added;
  }

  function pinned(region) {
    const active = document.activeElement;
    if (active && active !== document.body && region.contains(active)) return active;
    return Array.from(region.querySelectorAll("li.queue-item")).find(function (row) {
      return row.getBoundingClientRect().bottom > 0;
    }) || null;
  }

  function setUpQueueRefresh() {
    // Skip a refresh while a note is being typed, a "Resolve" box is open or an action is on its way.
    document.addEventListener("htmx:beforeRequest", function (event) {
      const region = event.detail.elt;
      if (!region || region.id !== "queue-region") return;
      const focused = document.activeElement;
      const typing = focused && region.contains(focused) && focused.matches("input, textarea, select");
      const drafted = Array.from(region.querySelectorAll("input[name=note]")).some(function (el) { return el.value.trim() !== ""; });
      const open = region.querySelector("details[open]");
      const busy = region.querySelector(".htmx-request, .sb-busy");
      if (typing || drafted || open || busy) event.preventDefault();
    });
    document.addEventListener("htmx:beforeSwap", function (event) {
      const region = event.detail.target;
      if (!region || region.id !== "queue-region" || event.detail.elt !== region) return;
      if (event.detail.xhr.status !== 200) return;
      event.detail.shouldSwap = false;
      // What the person looks at stays where it is on the screen: the element they are on, else the
      // first row in view; rows added or removed above it scroll the page by as much.
      const anchor = pinned(region);
      const before = anchor ? anchor.getBoundingClientRect().top : 0;
      const template = document.createElement("template");
      template.innerHTML = event.detail.serverResponse;
      const added = reconcile(region, template.content);
      labelCells(region);
      const news = document.getElementById("queue-news");
      if (news && added) {
        news.textContent = added + " new item" + (added === 1 ? "" : "s") + " added to the list";
        clearTimeout(news.sbClear);
        news.sbClear = setTimeout(function () { news.textContent = ""; }, NEW_MS);
      }
      if (anchor && anchor.isConnected) {
        const shift = anchor.getBoundingClientRect().top - before;
        if (Math.abs(shift) >= 1) window.scrollBy(0, shift);
      }
      region.dispatchEvent(new CustomEvent("sb:queue-refreshed", { bubbles: true, detail: { added: added } }));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .sb-toast").forEach(arm);
    setUpNavigation();
    labelCells(document);
    setUpQueueRefresh();
    document.addEventListener("submit", markBusy);
    setUpBusyActions();
    // A page shown again from the back/forward cache: its forms are not busy any more.
    window.addEventListener("pageshow", function () {
      document.querySelectorAll("form.sb-busy").forEach(function (f) { f.classList.remove("sb-busy"); enable(f); });
    });

    // Ask before actions that change things for customers: <button data-confirm="Really pause?">, or
    // a <form data-confirm> for each of its submit buttons. Only what acts asks: choosing in a form's
    // select or typing in its fields does not. (Enter in a field clicks the form's submit button.)
    document.body.addEventListener("click", function (event) {
      const actor = event.target.closest("button:not([type=button]), input[type=submit], a[data-confirm]");
      const el = actor && actor.closest("[data-confirm]");
      if (el && !window.confirm(el.dataset.confirm)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    }, true);

    // A rules editor's check as a person types (templates/_rules_check.html): mark each field of its
    // form with its problem, or clear it, without touching what the person is typing.
    document.addEventListener("htmx:load", function (event) {
      const box = event.detail.elt;
      if (!(box instanceof Element) || !box.matches(".rules-check[data-field-errors]")) return;
      const form = document.getElementById(box.dataset.checkFor);
      if (!form) return;
      const errors = JSON.parse(box.dataset.fieldErrors);
      form.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (field) {
        if (field.type === "hidden") return;
        const message = errors[field.name] || "";
        const noteId = (field.id || form.id + "-" + field.name) + "-error";
        let note = document.getElementById(noteId);
        field.classList.toggle("is-invalid", Boolean(message));
        if (message) {
          if (!note) {
            note = document.createElement("div");
            note.className = "invalid-feedback";
            note.id = noteId;
            field.after(note);
          }
          note.textContent = message;
          field.setAttribute("aria-invalid", "true");
          field.setAttribute("aria-describedby", noteId);
        } else if (field.getAttribute("aria-invalid")) {
          if (note) note.remove();
          field.removeAttribute("aria-invalid");
          field.removeAttribute("aria-describedby");
        }
      });
    });

    // Toasts that htmx answers carry (HX-Trigger: {"sb:toast": [{level, text}]}).
    document.body.addEventListener("sb:toast", function (event) {
      const list = Array.isArray(event.detail.value) ? event.detail.value : [event.detail];
      list.forEach(function (t) { toast(t.text, t.level); });
    });
    // Content htmx brought in (it says so on the new element, connected): its tables get labels, and a
    // queue row's outcome ("Queued again", an error) is also said in a toast.
    document.addEventListener("htmx:load", function (event) {
      const el = event.detail.elt;
      if (!(el instanceof Element) || el === document.body) return;
      if (el.querySelector("table.table") || el.closest("table.table")) labelCells(el.closest("main") || document);
      if (el.matches(".queue-item-done") && !el.dataset.toasted) {
        el.dataset.toasted = "1";
        const error = el.querySelector(".alert-danger");
        toast(error ? error.textContent.trim() : el.textContent.replace("✓", "").trim(), error ? "danger" : "success");
      }
    });

    // Show server errors of htmx requests instead of failing silently.
    document.body.addEventListener("htmx:responseError", function (event) {
      const box = document.getElementById("htmx-error");
      if (!box) return;
      const status = event.detail.xhr.status;
      box.textContent = status === 403
        ? "You do not have permission to do that."
        : "Something went wrong (" + status + "). Nothing was changed; try again or reload the page.";
      box.hidden = false;
      toast(box.textContent, "danger");
    });
    // A form with errors answers 422 with the region to show again (its errors in place): swap it.
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      if (event.detail.xhr.status === 422) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    });
    document.body.addEventListener("htmx:sendError", function () {
      const box = document.getElementById("htmx-error");
      if (!box) return;
      box.textContent = "Switchboard cannot be reached. Check your connection; nothing was changed.";
      box.hidden = false;
    });
  });
})();
