// Starts the live updates of the dashboard or a run's page from the data attributes of this script's
// tag: pages carry no inline script (Content-Security-Policy: script-src 'self').
(function () {
  var data = document.currentScript.dataset;
  if (data.page === "dashboard") {
    EngramLive.dashboard({ runUrl: data.runUrl, adminUrl: data.adminUrl });
  } else if (data.page === "run") {
    EngramLive.run(data.runId);
  }
})();
