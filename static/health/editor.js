/* The health profile editor: after each live preview, mark the fields the draft got wrong
   (beside the field, as saving would) and show the weight sums; Enter in a field does not
   submit the form (a half-typed threshold is never saved by accident). The preview itself
   is htmx: templates/health/editor.html. */
(function () {
  "use strict";

  function parse(text) {
    try { return JSON.parse(text || "{}"); } catch (e) { return {}; }
  }

  function apply(result) {
    var form = document.getElementById("editor-form");
    if (!form || !result) return;
    var errors = parse(result.getAttribute("data-errors"));
    var sums = parse(result.getAttribute("data-sums"));
    form.querySelectorAll("[data-field]").forEach(function (box) {
      var message = errors[box.getAttribute("data-field")] || "";
      box.classList.toggle("has-error", message !== "");
      var slot = box.querySelector(".error");
      if (slot) slot.textContent = message;
    });
    Object.keys(sums).forEach(function (key) {
      var value = sums[key];
      form.querySelectorAll('[data-sum="' + key + '"]').forEach(function (el) {
        el.textContent = value === null ? "—" : (Math.round(value * 100) / 100) + "%";
        var box = el.closest(".weight-sum");
        if (box) {
          box.classList.toggle("sum-ok", value === 100);
          box.classList.toggle("sum-bad", value !== 100);
        }
      });
    });
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "preview") apply(document.getElementById("preview-result"));
  });

  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || !field || !field.closest) return;
    if (field.tagName === "INPUT" && field.closest("#editor-form")) event.preventDefault();
  });

  // Pressed choice buttons (the kind toggle) follow their radio at once.
  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (!radio || radio.type !== "radio" || !radio.closest(".choice-toggle")) return;
    radio.closest(".choice-toggle").querySelectorAll(".choice").forEach(function (label) {
      label.classList.toggle("active", label.contains(radio));
    });
  });
})();
