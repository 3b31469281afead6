// Live updates for the dashboard and run pages over the jobs WebSockets; pages work without them.
(function () {
  "use strict";

  function connect(path, onEvent) {
    var state = document.getElementById("live-state");
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var delay = 500;
    function open() {
      var socket = new WebSocket(scheme + location.host + path);
      socket.onopen = function () { delay = 500; if (state) state.textContent = "live"; };
      socket.onmessage = function (message) { onEvent(JSON.parse(message.data)); };
      socket.onclose = function (event) {
        if (state) state.textContent = "offline (" + event.code + ")";
        if (event.code >= 4400 && event.code < 4500) return;  // refused: do not hammer the server
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }
    open();
  }

  function percent(event) {
    if (event.status === "succeeded") return 100;
    if (event.total) return Math.min(100, Math.round(100 * event.done / event.total));
    return null;
  }

  function terminal(event) {
    return /\.(completed|failed|cancelled)$/.test(event.type || "");
  }

  function dashboard(urls) {
    var running = document.querySelector("#running tbody");
    var failures = document.querySelector("#failures tbody");
    var empty = document.getElementById("running-empty");

    function link(template, id) { return template.replace("00000000-0000-0000-0000-000000000000", id); }

    // A Cancel or Retry button for a row added live (only for operators: the page then carries the templates).
    function action(kind, id) {
      var template = document.getElementById("action-" + kind);
      if (!template) return document.createTextNode("");
      var form = template.content.firstElementChild.cloneNode(true);
      form.action = link(form.getAttribute("action"), id);
      return form;
    }

    function runningRow(event) {
      var row = running.querySelector('tr[data-run="' + event.run_id + '"]');
      if (!row) {
        row = document.createElement("tr");
        row.dataset.run = event.run_id;
        row.innerHTML = '<td><a></a></td><td><span class="bar"><span></span></span> <span class="pct"></span></td>' +
                        '<td class="msg"></td><td class="started"></td><td class="actions"></td>';
        row.querySelector(".actions").appendChild(action("cancel", event.run_id));
        row.querySelector("a").href = link(urls.runUrl, event.run_id);
        row.querySelector("a").textContent = event.task;
        row.querySelector(".started").textContent = (event.started_at || "").slice(11, 19);
        running.appendChild(row);
      }
      return row;
    }

    function update(event) {
      if (!event.run_id) return;
      if (terminal(event)) {
        var done = running.querySelector('tr[data-run="' + event.run_id + '"]');
        if (done) done.remove();
        if (/\.failed$/.test(event.type) && !event.will_retry) {
          var none = failures.querySelector("tr.empty");
          if (none) none.remove();
          var row = document.createElement("tr");
          row.innerHTML = '<td><a></a></td><td><span class="status" data-status="dead">dead</span></td>' +
                          '<td class="error"></td><td></td><td class="actions"></td>';
          row.dataset.run = event.run_id;
          row.querySelector(".actions").appendChild(action("retry", event.run_id));
          row.querySelector("a").href = link(urls.adminUrl, event.run_id);
          row.querySelector("a").textContent = event.task;
          row.querySelector(".error").textContent = (event.error_type || "") + " " + (event.error_message || "");
          failures.insertBefore(row, failures.firstChild);
        }
      } else if (event.status === "running") {
        var line = runningRow(event);
        var pct = percent(event);
        if (pct !== null) { line.querySelector(".bar > span").style.width = pct + "%"; line.querySelector(".pct").textContent = pct + "%"; }
        line.querySelector(".msg").textContent = event.message || "";
      }
      if (empty) empty.hidden = running.children.length > 0;
    }

    function depths(queues) {
      if (!queues) return;
      Object.keys(queues).forEach(function (name) {
        var cell = document.querySelector('[data-queue="' + name + '"]');
        if (cell) cell.textContent = queues[name];
      });
    }

    connect("/ws/dashboard/", function (event) {
      if (event.type === "dashboard.snapshot") { (event.runs || []).forEach(update); depths(event.queues); return; }
      if (event.queues) depths(event.queues);
      update(event);
    });
  }

  function run(runId) {
    connect("/ws/runs/" + runId + "/", function (event) {
      if (event.run_id !== runId) return;
      var pct = percent(event);
      if (pct !== null) {
        document.getElementById("bar").style.width = pct + "%";
        document.getElementById("pct").textContent = pct + "%";
      }
      document.getElementById("counts").textContent = event.done + (event.total ? " / " + event.total : "");
      document.getElementById("message").textContent = event.message || "";
      var badge = document.querySelector(".status");
      badge.textContent = event.status;
      badge.dataset.status = event.status;
      if (event.attempt !== undefined) document.getElementById("attempt").textContent = event.attempt;
      if (terminal(event)) {
        // The result or error lives in the ledger: fetch this page again and swap in its outcome
        // part (no navigation, so the live bar stays where it is).
        fetch(location.href, { credentials: "same-origin" })
          .then(function (response) { return response.text(); })
          .then(function (html) {
            var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("outcome");
            if (fresh) document.getElementById("outcome").innerHTML = fresh.innerHTML;
          });
      }
    });
  }

  window.EngramLive = { dashboard: dashboard, run: run };
})();
