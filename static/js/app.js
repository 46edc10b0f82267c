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
  document.body.addEventListener("htmx:sendError", function () {
    const box = document.getElementById("htmx-error");
    if (!box) return;
    box.textContent = "Switchboard cannot be reached. Check your connection; nothing was changed.";
    box.hidden = false;
  });
});
