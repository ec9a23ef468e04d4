// The inbox's bulk bar: "All on this page" ticks every row, the bar counts what is chosen,
// and cancelling asks first (a cancelled task leaves the inbox).
(function () {
  const form = document.getElementById("bulk-form");
  if (!form) return;
  const all = document.getElementById("bulk-all");
  const count = document.getElementById("bulk-count");
  const boxes = () => Array.from(document.querySelectorAll('input[name="ids"][form="bulk-form"]'));
  function update() {
    const chosen = boxes().filter((b) => b.checked).length;
    count.textContent = chosen ? `${chosen} chosen` : "None chosen";
    all.checked = chosen > 0 && chosen === boxes().length;
  }
  all.addEventListener("change", () => { boxes().forEach((b) => { b.checked = all.checked; }); update(); });
  document.addEventListener("change", (event) => { if (event.target.matches('input[name="ids"]')) update(); });
  document.body.addEventListener("htmx:afterSwap", update);
  form.addEventListener("submit", (event) => {
    const chosen = boxes().filter((b) => b.checked).length;
    if (event.submitter && event.submitter.value === "cancel" && chosen &&
        !window.confirm(`Cancel ${chosen} task${chosen === 1 ? "" : "s"}?`)) event.preventDefault();
  });
  update();
})();
