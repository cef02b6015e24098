/* Switchboard (SWB-1): live durations and connection state; the data comes by SSE. */
(function () {
  "use strict";
  var offset = 0; // server clock minus this device's clock, in ms
  function syncClock(root) {
    var el = (root || document).querySelector("#sb-clock [data-server-ms]");
    if (el && !el.dataset.seen) {
      offset = parseInt(el.dataset.serverMs, 10) - Date.now();
      el.dataset.seen = "1";
    }
  }
  function fmt(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    var m = Math.floor(s / 60);
    s = s % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }
  function tick() {
    syncClock();
    var now = Date.now() + offset;
    document.querySelectorAll("time.ticker[data-from-ms]").forEach(function (t) {
      t.textContent = fmt(now - parseInt(t.dataset.fromMs, 10));
    });
    document.querySelectorAll("time.countdown[data-until-ms]").forEach(function (t) {
      var left = parseInt(t.dataset.untilMs, 10) - now;
      t.textContent = left > 0 ? Math.ceil(left / 1000) + " s" : "0 s";
    });
  }
  function linkState(state) {
    var el = document.getElementById("sb-link");
    if (el) { el.dataset.state = state; }
  }
  document.addEventListener("htmx:sseOpen", function () { linkState("open"); });
  document.addEventListener("htmx:sseError", function () { linkState("lost"); });
  document.addEventListener("htmx:sseClose", function () { linkState("lost"); });
  document.addEventListener("htmx:afterSwap", function () { syncClock(); tick(); });
  document.addEventListener("DOMContentLoaded", tick);
  setInterval(tick, 1000);
})();
