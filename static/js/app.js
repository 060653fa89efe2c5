// Form widgets get Bootstrap classes server-side; this only adds the error outline that
// depends on the rendered error list.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-field-error]").forEach((el) => {
    const input = el.parentElement.querySelector("input, select, textarea");
    if (input) input.classList.add("is-invalid");
  });
});
