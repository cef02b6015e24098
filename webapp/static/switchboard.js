/* Switchboard (SWB-1, SWB-4..8) and "Ma ligne": live items by server-sent events, timers,
   honest connection state, no reflow under an open panel, focus kept, small announcements.
   Protocol (webapp/services/switchboard.py): `full` = every item (drop the others),
   `u` = changed items, `<i id=… data-del>` = item gone, `hb` = heartbeat (server ms). */
(function () {
  "use strict";
  var offset = 0; // server clock minus this device's clock, in ms
  var live, base, hbMs = 25000, lastMsg = 0, source = null, state = "connecting";
  var pending = [], retryMs = 1000, opened = false;

  // UI-5: a duration as the server writes it (webapp.i18n.duration): the language's CLDR
  // patterns from Babel on <html data-durations>, hours and minutes from an hour on,
  // minutes and seconds below ("1 min 5 s", "1 min 5 sec").
  var units = JSON.parse(document.documentElement.getAttribute("data-durations") || "null");
  var plural = new Intl.PluralRules(document.documentElement.lang || "fr");
  function seconds(total) {
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    var parts = h ? [["h", h], ["min", m]] : (m ? [["min", m], ["s", s]] : [["s", s]]);
    if (parts.length > 1) { parts = parts.filter(function (p) { return p[1]; }); }
    var shown = parts.map(function (p) {
      var forms = units[p[0]];
      return (forms[plural.select(p[1])] || forms.other).replace("{0}", String(p[1]));
    });
    return shown.length > 1 ? units.list.replace("{0}", shown[0]).replace("{1}", shown[1])
                            : shown[0];
  }
  function fmt(ms) { return seconds(Math.max(0, Math.floor(ms / 1000))); }
  function setServer(ms) { if (ms) { offset = ms - Date.now(); } }
  function now() { return Date.now() + offset; }

  // ---- derived display: timers, positions, counts, longest wait, service-level colours
  function tick() {
    var t = now();
    document.querySelectorAll("time.ticker[data-from-ms]").forEach(function (el) {
      var text = fmt(t - parseInt(el.dataset.fromMs, 10));
      if (el.textContent !== text) { el.textContent = text; }
    });
    document.querySelectorAll("time.countdown[data-until-ms]").forEach(function (el) {
      var left = parseInt(el.dataset.untilMs, 10) - t;
      var text = seconds(left > 0 ? Math.ceil(left / 1000) : 0);
      if (el.textContent !== text) { el.textContent = text; }
    });
    document.querySelectorAll(".sb-number, .wall-tile").forEach(function (box) {
      var worst = 0, oldest = null;
      box.querySelectorAll(".sb-call.waiting").forEach(function (li) {
        var from = parseInt(li.querySelector("time").dataset.fromMs, 10);
        var wait = t - from, sla = parseInt(li.dataset.sla, 10) || 20000;
        var level = wait > sla ? 2 : (wait > sla * 2 / 3 ? 1 : 0);
        li.dataset.level = ["ok", "amber", "red"][level];
        worst = Math.max(worst, level);
        if (oldest === null || from < oldest) { oldest = from; }
      });
      if (box.classList.contains("wall-tile")) {
        var tt = box.querySelector(".longest time");
        var sla = parseInt(box.dataset.sla, 10) || 20000;
        if (tt) {
          var wait = t - parseInt(tt.dataset.fromMs, 10);
          worst = wait > sla ? 2 : (wait > sla * 2 / 3 ? 1 : 0);
        }
      }
      box.dataset.level = ["ok", "amber", "red"][worst];
      var lw = box.querySelector("time.longest-wait");
      if (lw) { lw.textContent = fmt(oldest === null ? 0 : t - oldest); }
    });
    var clock = document.getElementById("wall-clock");
    if (clock) {
      var d = new Date(t);
      clock.textContent = d.toLocaleTimeString(document.documentElement.lang || "fr",
                                               {hour: "2-digit", minute: "2-digit"});
    }
    if (live && source && Date.now() - lastMsg > 2 * hbMs) { lost(); }
  }
  function renumber() {
    document.querySelectorAll("[data-count-of]").forEach(function (c) {
      var list = document.getElementById(c.dataset.countOf);
      c.textContent = list ? list.children.length : "0";
    });
    document.querySelectorAll("ol.sb-list").forEach(function (list) {
      var seen = {};
      Array.prototype.forEach.call(list.children, function (li) {
        var p = li.dataset.profile || "";
        seen[p] = (seen[p] || 0) + 1;
        var pos = li.querySelector(".pos");
        if (pos && pos.textContent !== String(seen[p])) { pos.textContent = seen[p]; }
      });
    });
  }

  // ---- applying items
  function morph(old, neu) {
    // Bring `old` to look like `neu` without replacing nodes that hold the focus.
    if (old.nodeType !== neu.nodeType || old.nodeName !== neu.nodeName) {
      old.replaceWith(neu);
      return;
    }
    if (old.nodeType === 3) {
      if (old.nodeValue !== neu.nodeValue) { old.nodeValue = neu.nodeValue; }
      return;
    }
    if (old.nodeType !== 1) { return; }
    Array.prototype.slice.call(old.attributes).forEach(function (a) {
      if (!neu.hasAttribute(a.name)) { old.removeAttribute(a.name); }
    });
    Array.prototype.forEach.call(neu.attributes, function (a) {
      if (old.getAttribute(a.name) !== a.value) { old.setAttribute(a.name, a.value); }
    });
    if (old.nodeName === "TIME" && old.dataset.fromMs === neu.dataset.fromMs &&
        old.dataset.untilMs === neu.dataset.untilMs) { return; }
    var o = Array.prototype.slice.call(old.childNodes);
    var n = Array.prototype.slice.call(neu.childNodes);
    n.forEach(function (child, i) {
      if (i < o.length) { morph(o[i], child); } else { old.appendChild(child); }
    });
    for (var i = n.length; i < o.length; i++) { old.removeChild(o[i]); }
  }
  function place(el) {
    var list = document.getElementById(el.dataset.list);
    if (!list) { return false; }
    var order = el.dataset.order || "";
    var before = null;
    Array.prototype.some.call(list.children, function (li) {
      if (li !== el && (li.dataset.order || "") > order) { before = li; return true; }
      return false;
    });
    if (el.parentNode !== list || el.nextElementSibling !== before) {
      if (el.contains(document.activeElement) && el.parentNode === list) {
        // move the others around the focused item rather than the item itself
        if (before) { list.insertBefore(el, before); } else { list.appendChild(el); }
        document.activeElement.focus();
      } else if (before) { list.insertBefore(el, before); } else { list.appendChild(el); }
    }
    return true;
  }
  function apply(kind, html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var ids = {}, fresh = [];
    Array.prototype.slice.call(tpl.content.children).forEach(function (el) {
      var id = el.id;
      if (!id) { return; }
      ids[id] = true;
      if (id === "sb-now") { setServer(parseInt(el.dataset.ms, 10)); return; }
      var old = document.getElementById(id);
      if (el.hasAttribute("data-del")) {
        delete applied[id];
        if (old) { old.remove(); }
        return;
      }
      applied[id] = el.outerHTML;
      if (old) {
        var hadFocus = old.contains(document.activeElement);
        morph(old, el);
        if (old.dataset.list) { place(old); }
        if (hadFocus && !old.contains(document.activeElement)) {
          var again = old.querySelector("button, a, input, select");
          if (again) { again.focus(); }
        }
      } else if (el.dataset.list) {
        if (place(el) && kind === "u" && el.classList.contains("waiting")) { fresh.push(el); }
      }
    });
    if (kind === "full") {
      document.querySelectorAll("[data-list][id]").forEach(function (el) {
        if (!ids[el.id]) { el.remove(); }
      });
      Object.keys(applied).forEach(function (id) { if (!ids[id]) { delete applied[id]; } });
    }
    renumber();
    tick();
    fresh.forEach(function (el) {
      var who = el.querySelector(".who");
      announce((live.dataset.msgNew || "") + " " +
               (who ? who.firstChild.textContent.trim() : ""));
      beep();
    });
  }
  function panelOpen() {
    // a panel still offering actions freezes the lists (SWB-4); a confirmation does not
    return !!document.querySelector("#sb-action .sb-panel form");
  }
  // While frozen, `latest` holds the newest HTML received for each item (null: gone) and
  // `applied` what the page shows: the items where they differ are the pending changes.
  var applied = {}, latest = {};
  function itemsOf(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    return Array.prototype.filter.call(tpl.content.children, function (el) {
      return el.id && el.id !== "sb-now";
    });
  }
  function remember(kind, html) {
    var listed = {};
    itemsOf(html).forEach(function (el) {
      listed[el.id] = true;
      latest[el.id] = el.hasAttribute("data-del") ? null : el.outerHTML;
    });
    if (kind === "full") {
      Object.keys(applied).forEach(function (id) { if (!listed[id]) { latest[id] = null; } });
    }
  }
  function pendingCount() {
    return Object.keys(latest).filter(function (id) {
      return latest[id] !== (applied[id] === undefined ? null : applied[id]);
    }).length;
  }
  function endedCheck() {
    var panel = document.querySelector("#sb-action .sb-panel[data-call]");
    if (!panel) { return; }
    var card = document.querySelector(".sb-call[data-call='" + CSS.escape(panel.dataset.call) + "']");
    if (card && latest[card.id] === null) {
      var note = panel.querySelector(".sb-ended");
      if (note) { note.hidden = false; }
      panel.querySelectorAll("form button, form select, form input").forEach(function (b) {
        b.disabled = true;
      });
    }
  }
  function showPending() {
    var btn = document.getElementById("sb-pending");
    if (!btn) { return; }
    var n = pendingCount();
    btn.hidden = n === 0;
    btn.dataset.count = n;
    btn.textContent = (n === 1 ? btn.dataset.one : btn.dataset.many).replace("__N__", n);
  }
  function receive(kind, html) {
    lastMsg = Date.now();
    if (panelOpen()) {
      pending.push([kind, html]);
      remember(kind, html);
      endedCheck();
      showPending();
      return;
    }
    apply(kind, html);
  }
  function flush() {
    var todo = pending;
    pending = [];
    latest = {};
    todo.forEach(function (p) { apply(p[0], p[1]); });
    showPending();
  }

  // ---- connection
  function linkState(s) {
    state = s;
    var el = document.getElementById("sb-link");
    if (el) { el.dataset.state = s; }
    if (live) { live.dataset.link = s; }  // a lost link greys the data out: it is stale
  }
  function lost() {
    if (state !== "lost") { linkState("lost"); announce(live.dataset.msgLost || ""); }
    if (source) { source.close(); source = null; }
    opened = false;
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 30000);
  }
  function connect() {
    if (source) { return; }
    source = new EventSource(live.dataset.stream);
    lastMsg = Date.now();
    source.addEventListener("full", function (e) {
      opened = true;
      live.dataset.syncs = (parseInt(live.dataset.syncs || "0", 10) + 1).toString();
      retryMs = 1000;
      linkState("open");
      receive("full", e.data);
    });
    source.addEventListener("u", function (e) { receive("u", e.data); });
    source.addEventListener("closed", function (e) {
      // SEC-4: a newer page of the same user took this stream (3 at most): stop here.
      if (source) { source.close(); source = null; }
      linkState("closed");
      var box = document.getElementById("sb-closed");
      if (box) { box.innerHTML = e.data; box.hidden = false; announce(box.textContent); }
    });
    source.addEventListener("hb", function (e) {
      lastMsg = Date.now();
      setServer(parseInt(e.data, 10));
    });
    source.onerror = function () {
      // the browser retries by itself after a normal end of stream; a refused one closes
      if (source && source.readyState === 2) { lost(); } else if (state === "open") {
        linkState("connecting");
      }
    };
  }

  // ---- little helpers
  function announce(text) {
    var el = document.getElementById("sb-announce");
    if (el && text) { el.textContent = text; }
  }
  function beep() {
    var box = document.getElementById("sb-sound");
    if (!box || !box.checked) { return; }
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      var ctx = beep.ctx || (beep.ctx = new Ctx());
      var o = ctx.createOscillator(), g = ctx.createGain();
      o.frequency.value = 880;
      g.gain.value = 0.15;
      o.connect(g);
      g.connect(ctx.destination);
      o.start();
      o.stop(ctx.currentTime + 0.25);
    } catch (err) { /* no sound available */ }
  }
  function openPanel(url, method) {
    if (!window.htmx) { window.location = url; return; }
    var headers = {};
    if (live && live.dataset.csrf) { headers["X-CSRFToken"] = live.dataset.csrf; }
    htmx.ajax(method, url, {target: "#sb-action", swap: "innerHTML", headers: headers});
  }

  document.addEventListener("click", function (e) {
    var el = e.target.closest("[data-panel], [data-post], [data-close], #sb-pending");
    if (!el) { return; }
    if (el.id === "sb-pending") { flush(); return; }
    if (el.hasAttribute("data-close")) {
      e.preventDefault();
      document.getElementById("sb-action").innerHTML = "";
      flush();
      return;
    }
    var box = el.closest("[data-base]");
    if (!box) { return; }
    if (el.dataset.panel) { openPanel(box.dataset.base + "/" + el.dataset.panel, "GET"); }
    if (el.dataset.post) { openPanel(box.dataset.base + "/" + el.dataset.post, "POST"); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && panelOpen()) {
      document.getElementById("sb-action").innerHTML = "";
      flush();
    }
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!panelOpen() && pending.length) { flush(); }
    tick();
  });

  document.addEventListener("DOMContentLoaded", function () {
    live = document.getElementById("sb-live");
    var sound = document.getElementById("sb-sound");
    if (sound) {
      sound.checked = localStorage.getItem("sb-sound") === "1";
      sound.addEventListener("change", function () {
        localStorage.setItem("sb-sound", sound.checked ? "1" : "0");
        if (sound.checked) { beep(); }
      });
    }
    if (live) {
      setServer(parseInt(live.dataset.serverMs, 10));
      hbMs = parseInt(live.dataset.heartbeatMs, 10) || hbMs;
      renumber();
      connect();
    }
    tick();
    setInterval(tick, 1000);
  });
})();
