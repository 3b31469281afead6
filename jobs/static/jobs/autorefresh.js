// Opt-in auto-refresh of the job admin's list pages. The choice is remembered per page in
// localStorage; a refresh reloads the same URL, so filters, search and page stay as they are.
// It waits while the operator is busy: a row selected for an action or a field being typed in.
(function () {
  "use strict";
  var box = document.getElementById("autorefresh");
  if (!box) return;
  var seconds = parseInt(box.dataset.seconds || "10", 10);
  var key = "engram.autorefresh:" + location.pathname;
  var filtersKey = "engram.autorefresh.filters:" + location.pathname;
  var timer = null;

  function busy() {
    var active = document.activeElement;
    if (active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName) && active !== box) return true;
    return document.querySelector("input.action-select:checked, #action-toggle:checked") !== null;
  }

  function schedule() {
    clearTimeout(timer);
    if (!box.checked) return;
    timer = setTimeout(function () {
      if (busy()) { schedule(); return; }
      location.reload();
    }, seconds * 1000);
  }

  // Coming back to a list without a query (the sidebar link) while refreshing is on: restore the
  // filters it had, so a refreshing view keeps showing what the operator chose.
  var saved = localStorage.getItem(filtersKey);
  if (localStorage.getItem(key) === "on" && !location.search && saved) {
    location.replace(location.pathname + saved);
    return;
  }
  box.checked = localStorage.getItem(key) === "on";
  box.addEventListener("change", function () {
    localStorage.setItem(key, box.checked ? "on" : "off");
    schedule();
  });
  localStorage.setItem(filtersKey, location.search);
  schedule();
})();
