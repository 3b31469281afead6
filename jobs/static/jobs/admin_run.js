// Live status and progress over the run's WebSocket on the admin's run page; the page works without it.
(function () {
  if (!window.WebSocket) return;
  var path = document.currentScript.dataset.wsPath;
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var socket;
  try { socket = new WebSocket(scheme + location.host + path); } catch (e) { return; }
  socket.onmessage = function (message) {
    var event = JSON.parse(message.data);
    var run = event.run || event;
    var fill = document.querySelector(".engram-progress-fill");
    var label = document.querySelector(".engram-progress-label");
    if (run.total && fill) { var pct = Math.round(100 * run.done / run.total); fill.style.width = pct + "%"; if (label) label.textContent = pct + "%"; }
    else if (label && run.done !== undefined) { label.textContent = run.done; }
    var badge = document.querySelector(".engram-status");
    if (badge && run.status) { badge.textContent = run.status_label || run.status; badge.dataset.status = run.status; }
  };
})();
