// The job forms (dashboard enqueue, admin schedule and retry-with-edited-arguments):
// - the chosen task's signature and docstring as a hint, updated when the task changes;
// - the first error scrolled into view and its field focused;
// - a schedule's next five fire times previewed while typing (a small JSON endpoint).
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn); else fn();
  }

  function taskHint() {
    var data = document.getElementById("task-hints");
    var select = document.querySelector("select[name=task], select[name=task_path]");
    if (!data) return;
    var hints = JSON.parse(data.textContent);
    var fixed = hints.__task__;  // a form about one run's task has no select
    var box = document.createElement("div");
    box.className = "task-hint";
    box.id = "task-hint";
    box.innerHTML = '<code class="signature"></code><div class="doc"></div>';
    var anchor = select || document.querySelector("[name=args]");
    if (!anchor) return;
    if (select) anchor.insertAdjacentElement("afterend", box); else anchor.insertAdjacentElement("beforebegin", box);
    function show() {
      var path = select ? select.value : fixed;
      var hint = hints[path];
      box.hidden = !hint;
      if (!hint) return;
      box.querySelector(".signature").textContent = path.split(".").pop() + hint.signature;
      box.querySelector(".doc").textContent = hint.doc || "(no docstring)";
    }
    if (select) select.addEventListener("change", show);
    show();
  }

  function firstError() {
    var error = document.querySelector(".errorlist, .errornote");
    if (!error) return;
    error.scrollIntoView({ block: "center" });
    var row = error.closest(".form-row, p, tr, div");
    var field = row && row.querySelector("input:not([type=hidden]), select, textarea");
    if (field) field.focus({ preventScroll: true });
  }

  function firePreview() {
    var box = document.querySelector(".field-next_fire_times .readonly");
    var source = document.getElementById("schedule-preview");
    if (!box || !source) return;
    var url = source.dataset.url;
    var names = ["interval_seconds", "cron", "clocked_at", "timezone", "starts_at", "expires_at"];
    var timer = null;
    function render(body) {
      box.textContent = "";
      if (body.error) {
        var p = document.createElement("p");
        p.className = "preview-error";
        p.textContent = body.error;
        box.appendChild(p);
        return;
      }
      var list = document.createElement("ol");
      list.className = "engram-next-fire-times";
      body.times.forEach(function (t) {
        var item = document.createElement("li");
        item.textContent = t.local + " ";
        var utc = document.createElement("span");
        utc.className = "quiet";
        utc.textContent = "(" + t.utc + " UTC)";
        item.appendChild(utc);
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    function update() {
      var query = new URLSearchParams();
      names.forEach(function (name) {
        var input = document.querySelector("[name=" + name + "]");
        if (input) query.set(name, input.value);
      });
      fetch(url + "?" + query.toString(), { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(render)
        .catch(function () {});
    }
    names.forEach(function (name) {
      var input = document.querySelector("[name=" + name + "]");
      if (!input) return;
      ["input", "change"].forEach(function (kind) {
        input.addEventListener(kind, function () { clearTimeout(timer); timer = setTimeout(update, 250); });
      });
    });
  }

  ready(function () { taskHint(); firstError(); firePreview(); });
})();
