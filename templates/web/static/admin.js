/* Admin pages: confirmation prompts, the segment editor's live count, and live campaign
   progress. Loaded as a file (the CSP forbids inline script); every page works without it. */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  function liveCount(input) {
    var output = document.querySelector("[data-count-output]");
    var errorBox = document.querySelector("[data-count-error]");
    var timer = null;
    var latest = 0;
    function update() {
      var ticket = ++latest;
      var url = input.getAttribute("data-count-url") + "?expression=" + encodeURIComponent(input.value);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (ticket !== latest) { return; }
          if (data.error) {
            output.textContent = "—";
            errorBox.textContent = data.error;
            errorBox.hidden = false;
            input.setAttribute("aria-invalid", "true");
          } else {
            output.textContent = String(data.count);
            errorBox.hidden = true;
            errorBox.textContent = "";
            input.removeAttribute("aria-invalid");
          }
        })
        .catch(function () { /* offline: keep the last answer */ });
    }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 250);
    });
    if (input.value) { update(); }
  }

  function liveProgress(box) {
    var url = box.getAttribute("data-progress-url");
    var shown = box.getAttribute("data-status");
    var lastSent = -1;
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (p) {
          if (p.status !== shown) {
            window.location.reload(); /* new state: new buttons */
            return;
          }
          var bar = box.querySelector("[data-field=bar]");
          if (bar) { bar.max = p.total || 1; bar.value = p.total ? p.finished - (p.counts.skipped || 0) : (p.final ? 1 : 0); }
          var sent = box.querySelector("[data-field=sent]");
          if (sent) { sent.textContent = String(p.counts.sent || 0); }
          var total = box.querySelector("[data-field=total]");
          if (total) { total.textContent = String(p.total); }
          var reason = box.querySelector("[data-field=reason]");
          if (reason) { reason.textContent = p.reason; }
          Object.keys(p.timing || {}).forEach(function (key) {
            var cell = document.querySelector("[data-timing=" + key + "]");
            if (cell) { cell.textContent = p.timing[key]; }
          });
          var chart = document.querySelector("img[data-chart]");
          if (chart && p.counts.sent !== lastSent) {
            lastSent = p.counts.sent;
            chart.src = chart.src.split("?")[0] + "?sent=" + lastSent; /* redraw */
          }
          Object.keys(p.counts).forEach(function (key) {
            var cell = box.querySelector("[data-count=" + key + "]");
            if (cell) { cell.textContent = String(p.counts[key]); }
          });
          if (!p.final) { window.setTimeout(poll, 1000); }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    if (shown !== "done" && shown !== "cancelled") { window.setTimeout(poll, 700); }
  }

  /* The bulk bar shows the list or the tag field only for the actions that take one (without
     script, both stay shown and the server says which one an action needs). */
  function bulkFields(select) {
    function show() {
      var option = select.options[select.selectedIndex];
      var needs = option ? option.getAttribute("data-needs") : "";
      document.querySelectorAll("[data-needed-by]").forEach(function (field) {
        field.hidden = field.getAttribute("data-needed-by") !== needs;
      });
    }
    select.addEventListener("change", show);
    show();
  }

  var action = document.querySelector("select#action");
  if (action) { bulkFields(action); }
  var input = document.querySelector("[data-count-url]");
  if (input) { liveCount(input); }
  var box = document.querySelector("[data-progress-url]");
  if (box) { liveProgress(box); }
})();
