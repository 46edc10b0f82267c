// Switchboard's only script: small behaviours that htmx attributes cannot express.
document.addEventListener("DOMContentLoaded", function () {
  // Ask before destructive actions: <button data-confirm="Really pause?">
  document.body.addEventListener("click", function (event) {
    const el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  // Show server errors of htmx requests instead of failing silently.
  document.body.addEventListener("htmx:responseError", function (event) {
    const box = document.getElementById("htmx-error");
    if (!box) return;
    const status = event.detail.xhr.status;
    box.textContent = status === 403
      ? "You do not have permission to do that."
      : "Something went wrong (" + status + "). Nothing was changed; try again or reload the page.";
    box.hidden = false;
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

// The action queue refreshes itself, but never under someone's hands: skip a refresh
// while a note is being typed, a "Resolve" box is open or an action is on its way.
document.addEventListener("htmx:beforeRequest", function (event) {
  const region = event.detail.elt;
  if (!region || region.id !== "queue-region") return;
  const focused = document.activeElement;
  const typing = focused && region.contains(focused) && focused.matches("input, textarea, select");
  const drafted = Array.from(region.querySelectorAll("input[name=note]")).some(function (el) { return el.value.trim() !== ""; });
  const open = region.querySelector("details[open]");
  const busy = region.querySelector(".htmx-request");
  if (typing || drafted || open || busy) event.preventDefault();
});
