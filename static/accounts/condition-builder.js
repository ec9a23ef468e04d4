/* The condition builder (templates/accounts/condition_builder.html). htmx does the work —
   redrawing after structural edits, the debounced live count — and this adds what needs no
   server: a fresh box for one more value, the chosen options in a closed dropdown, one
   dropdown open at a time, and Enter pressing the form's own button rather than the first
   button of the builder (which would add or remove a row). */
(function () {
  "use strict";

  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches(".cb-many input[data-cb-more]") || box.value === "") return;
    var more = box.cloneNode(false);
    more.value = "";
    box.removeAttribute("data-cb-more");
    box.setAttribute("aria-label", "Value");
    more.placeholder = "another value";
    box.parentNode.appendChild(more);
  });

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches(".cb-multi-menu input[type=checkbox]")) return;
    var menu = box.closest(".cb-multi");
    var chosen = Array.prototype.filter.call(
      menu.querySelectorAll("input[type=checkbox]"), function (c) { return c.checked; }
    ).map(function (c) { return c.getAttribute("data-label") || c.value; });
    var label = menu.querySelector(".cb-multi-chosen");
    label.textContent = chosen.length ? chosen.join(", ") : label.getAttribute("data-empty");
  });

  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.cb-multi[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || !field.closest || field.tagName !== "INPUT") return;
    if (!field.closest(".condition-builder")) return;
    event.preventDefault();
    var form = field.form;
    var button = form && form.querySelector("[data-default-submit]");
    if (button) button.click();
  });
})();
