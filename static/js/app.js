// Every behaviour of the pages lives here rather than in inline scripts or on* attributes, so
// the Content-Security-Policy can refuse inline script outright (config/settings.py).
document.addEventListener("DOMContentLoaded", () => {
  // Form widgets get Bootstrap classes server-side; this only adds the error outline that
  // depends on the rendered error list.
  document.querySelectorAll("[data-field-error]").forEach((el) => {
    const input = el.parentElement.querySelector("input, select, textarea");
    if (input) input.classList.add("is-invalid");
  });
  // A dialog whose form came back with errors opens again, showing them.
  document.querySelectorAll(".modal[data-open-on-load]").forEach((el) => {
    bootstrap.Modal.getOrCreateInstance(el).show();
  });
});

// <form data-confirm="question">: submitting asks first. Delegated, so forms swapped in by htmx
// behave the same.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// <button hx-post=… data-clear-on-success="#selector">: once its request succeeds, the named
// field is emptied (the "Add line" picker starts over for the next line).
document.addEventListener("htmx:afterRequest", (event) => {
  const selector = event.detail.elt.dataset?.clearOnSuccess;
  if (!selector || !event.detail.successful) return;
  const field = document.querySelector(selector);
  if (field) field.value = "";
});
