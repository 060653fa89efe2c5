// Every behaviour of the pages lives here rather than in inline scripts or on* attributes, so
// the Content-Security-Policy can refuse inline script outright (config/settings.py).
document.addEventListener("DOMContentLoaded", () => {
  // Form widgets get Bootstrap classes server-side; this only adds the error outline that
  // depends on the rendered error list.
  document.querySelectorAll("[data-field-error]").forEach((el) => {
    const input = el.parentElement.querySelector("input, select, textarea");
    if (input) input.classList.add("is-invalid");
  });
  popoversInit(document);
  // A dialog whose form came back with errors opens again, showing them.
  document.querySelectorAll(".modal[data-open-on-load]").forEach((el) => {
    bootstrap.Modal.getOrCreateInstance(el).show();
  });
});

// Reasons in table cells (partials/reason_popover.html) open in a popover; rows htmx swaps in
// bring new ones.
function popoversInit(root) {
  root.querySelectorAll('[data-bs-toggle="popover"]').forEach((el) => {
    bootstrap.Popover.getOrCreateInstance(el);
  });
}
document.addEventListener("htmx:load", (event) => popoversInit(event.detail.elt));

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

// The job board (home.html): a card dragged onto the column it may move to posts the same
// start or complete form its button does; the server decides and the page reloads with the
// outcome. Dropping anywhere else does nothing.
document.addEventListener("dragstart", (event) => {
  const card = event.target.closest?.("[data-move-url]");
  if (!card) return;
  event.dataTransfer.setData("text/plain", card.dataset.moveUrl);
  event.dataTransfer.effectAllowed = "move";
  document.querySelector(`[data-column="${card.dataset.moveTo}"]`)?.classList.add("board-target");
  document.body.dataset.boardMove = card.dataset.moveTo;
});
document.addEventListener("dragend", () => {
  document.querySelectorAll(".board-target").forEach((el) => el.classList.remove("board-target"));
  delete document.body.dataset.boardMove;
});
document.addEventListener("dragover", (event) => {
  const column = event.target.closest?.("[data-column]");
  if (column && column.dataset.column === document.body.dataset.boardMove) event.preventDefault();
});
document.addEventListener("drop", (event) => {
  const column = event.target.closest?.("[data-column]");
  if (!column || column.dataset.column !== document.body.dataset.boardMove) return;
  event.preventDefault();
  const form = document.getElementById("board-move-form");
  form.action = event.dataTransfer.getData("text/plain");
  form.submit();
});

// The login page's demo users (shown only in a trial): a click fills the form, the person still
// presses Log in.
document.addEventListener("click", (event) => {
  const pick = event.target.closest?.("[data-demo-login]");
  if (!pick) return;
  document.getElementById("id_username").value = pick.dataset.demoLogin;
  const password = document.getElementById("id_password");
  password.value = pick.dataset.demoPassword;
  password.focus();
});
