// The dashboard's charts: throughput, failures and queue depth over time, from the ledger's JSON
// series (jobs:dashboard-series), refreshed every few seconds. Chart.js is vendored (static/jobs/vendor).
(function () {
  "use strict";
  if (!window.Chart) return;
  var url = document.currentScript.dataset.seriesUrl;
  var select = document.getElementById("chart-window");
  var REFRESH_MS = 5000;
  var charts = {};

  function label(iso, step) {
    var d = new Date(iso);
    var hm = String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
    return step >= 3600 ? (d.getMonth() + 1) + "/" + d.getDate() + " " + hm : hm;
  }

  function per(step) { return step >= 3600 ? "hour" : "minute"; }

  function make(id, datasets, yTitle, xTitle) {
    var canvas = document.getElementById(id);
    if (!canvas) return null;
    return new Chart(canvas, {
      type: "line",
      data: { labels: [], datasets: datasets },
      options: {
        animation: false, maintainAspectRatio: false, responsive: true,
        interaction: { mode: "index", intersect: false },
        plugins: { title: { display: true, text: canvas.getAttribute("aria-label") }, legend: { position: "bottom" } },
        scales: {
          x: { title: { display: true, text: xTitle }, ticks: { maxTicksLimit: 8, maxRotation: 0 } },
          y: { beginAtZero: true, title: { display: true, text: yTitle }, ticks: { precision: 0 } }
        }
      }
    });
  }

  function build(step) {
    var unit = per(step);
    var x = "time (local, end of each " + unit + ")";
    charts.throughput = make("chart-throughput", [
      { label: "succeeded runs", data: [], borderColor: "#2e8b57", backgroundColor: "rgba(46,139,87,.15)", fill: true, pointRadius: 0 }
    ], "runs per " + unit, x);
    charts.failures = make("chart-failures", [
      { label: "dead runs", data: [], borderColor: "#b22222", backgroundColor: "rgba(178,34,34,.15)", fill: true, pointRadius: 0 },
      { label: "failed attempts", data: [], borderColor: "#d08a1a", borderDash: [4, 3], pointRadius: 0 }
    ], "per " + unit, x);
    charts.depth = make("chart-depth", [
      { label: "runs waiting", data: [], borderColor: "#4a7bd0", backgroundColor: "rgba(74,123,208,.15)", fill: true, pointRadius: 0, stepped: true }
    ], "runs waiting to start", x);
    charts.step = step;
  }

  function show(series) {
    if (charts.step !== series.step_seconds) {
      ["throughput", "failures", "depth"].forEach(function (k) { if (charts[k]) charts[k].destroy(); });
      build(series.step_seconds);
    }
    var labels = series.labels.map(function (iso) { return label(iso, series.step_seconds); });
    var data = { throughput: [series.succeeded], failures: [series.dead, series.failed_attempts], depth: [series.waiting] };
    Object.keys(data).forEach(function (k) {
      var chart = charts[k];
      if (!chart) return;
      chart.data.labels = labels;
      data[k].forEach(function (values, i) { chart.data.datasets[i].data = values; });
      chart.update();
    });
    document.getElementById("charts").dataset.updated = String(Date.now());
  }

  function refresh() {
    var windowName = select ? select.value : "1h";
    fetch(url + "?window=" + encodeURIComponent(windowName), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (series) { if (series) show(series); })
      .catch(function () {});
  }

  if (select) select.addEventListener("change", refresh);
  refresh();
  setInterval(refresh, REFRESH_MS);
  window.EngramCharts = charts;
})();
