/* Small progressive enhancements; every page works without this file. */
(function () {
  "use strict";
  // Close the top-right menu when clicking elsewhere or pressing Escape.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.usermenu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.removeAttribute("open"); }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    document.querySelectorAll("details.usermenu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });
  // A refused form (400/409/422) is swapped like a success: htmx's responseHandling
  // (the htmx-config meta of base.html), no code here.

  // UI-1: the phone's menu strip shows the current page and drops its "more" cue at the end.
  document.addEventListener("DOMContentLoaded", function () {
    var nav = document.querySelector(".sidenav");
    var strip = nav && nav.querySelector("ul");
    if (!strip) { return; }
    var current = strip.querySelector("[aria-current=page]");
    if (current && strip.scrollWidth > strip.clientWidth) {
      strip.scrollLeft = current.offsetLeft - strip.clientWidth / 2 + current.offsetWidth / 2;
    }
    function edge() {
      nav.classList.toggle("at-end", strip.scrollLeft + strip.clientWidth >= strip.scrollWidth - 2);
    }
    strip.addEventListener("scroll", edge, { passive: true });
    edge();
  });

  // UI-3: uploads — each file's size is checked before anything is sent (the message sits
  // under the field), and an HTMX upload shows its progress in the form.
  function oversized(input) {
    var max = parseInt(input.getAttribute("data-max-bytes") || "0", 10);
    var files = input.files || [];
    for (var i = 0; max && i < files.length; i++) { if (files[i].size > max) { return files[i]; } }
    return null;
  }
  function checkSize(input) {
    var file = oversized(input);
    var id = input.id + "-size-error";
    var box = document.getElementById(id);
    if (!file) {
      if (box) { box.remove(); }
      input.setCustomValidity("");
      input.removeAttribute("aria-invalid");
      return true;
    }
    if (!box) {
      box = document.createElement("p");
      box.id = id;
      box.className = "field-error upload-too-big";
      box.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", box);
    }
    box.textContent = (document.body.getAttribute("data-upload-too-big") || "%(name)s > %(max)s")
      .replace("%(name)s", file.name).replace("%(max)s", input.getAttribute("data-max-label") || "");
    input.setAttribute("aria-invalid", "true");
    input.setCustomValidity(box.textContent);
    return false;
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[type=file][data-max-bytes]")) {
      checkSize(event.target);
    }
  });
  document.addEventListener("submit", function (event) {  // capture: before htmx sends
    var inputs = event.target.querySelectorAll("input[type=file][data-max-bytes]");
    for (var i = 0; i < inputs.length; i++) {
      if (!checkSize(inputs[i])) {
        event.preventDefault();
        event.stopPropagation();
        inputs[i].focus();
        return;
      }
    }
  }, true);
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form");
    if (!form || !form.querySelector("input[type=file]") || !event.detail.total) { return; }
    var bar = form.querySelector("progress.upload-progress");
    if (!bar) {
      bar = document.createElement("progress");
      bar.className = "upload-progress";
      bar.max = 100;
      bar.setAttribute("aria-label", document.body.getAttribute("data-upload-progress") || "");
      form.appendChild(bar);
    }
    bar.value = Math.round(100 * event.detail.loaded / event.detail.total);
    bar.textContent = bar.value + " %";
  });

  // UI-1: after a refused form, focus goes to its error summary (or first invalid field),
  // for the whole page (no-JS post) and for an HTMX swap alike.
  function focusErrors(root) {
    var summary = root.querySelector("#form-error, .flash-error[role=alert], .error-summary");
    var target = summary || root.querySelector("[aria-invalid=true]");
    if (!target) { return false; }
    if (target === summary && !summary.hasAttribute("tabindex")) {
      summary.setAttribute("tabindex", "-1");
    }
    target.focus({ preventScroll: false });
    return true;
  }
  document.addEventListener("DOMContentLoaded", function () { focusErrors(document); });
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;  // an outerHTML swap replaced it: find its successor
    var root = target && (target.isConnected ? target : target.id && document.getElementById(target.id));
    if (root) { focusErrors(root); }
  });

  // UI-1: an HTMX request that fails (server error, lost connection) says so in place,
  // next to what was clicked, in the page's language (texts on <body data-htmx-*>).
  function sayFailed(event, message) {
    var elt = event.detail.elt;
    if (!elt || !elt.isConnected) { return; }
    var host = elt.closest("form") || elt;
    var box = document.createElement("p");
    box.className = "flash flash-error htmx-error";
    box.setAttribute("role", "alert");
    box.setAttribute("tabindex", "-1");
    box.textContent = message;
    var previous = host.parentNode && host.parentNode.querySelector(":scope > .htmx-error");
    if (previous) { previous.remove(); }
    host.parentNode.insertBefore(box, host);
    box.focus();
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var text = document.body.getAttribute("data-htmx-error") || "Error %(status)s";
    sayFailed(event, text.replace("%(status)s", String(status)));
  });
  function offline(event) {
    sayFailed(event, document.body.getAttribute("data-htmx-offline") || "Offline");
  }
  document.addEventListener("htmx:sendError", offline);
  document.addEventListener("htmx:timeout", offline);
  document.addEventListener("htmx:beforeRequest", function (event) {
    var host = event.detail.elt && (event.detail.elt.closest("form") || event.detail.elt);
    var previous = host && host.parentNode && host.parentNode.querySelector(":scope > .htmx-error");
    if (previous) { previous.remove(); }
  });
})();
