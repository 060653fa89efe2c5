// The printable invoice's Print button (an inline onclick would need 'unsafe-inline').
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.addEventListener("click", () => window.print());
  });
});
