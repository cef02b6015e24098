/* Drag a contact row onto a folder to move it (desktop). Touch screens and keyboards use
   the checkboxes and "Déplacer vers" menu of the same form; this file only adds dragging. */
(function () {
  "use strict";
  var form = document.getElementById("move-form");
  if (!form || !window.matchMedia("(pointer: fine)").matches) { return; }
  var dragged = null;
  document.querySelectorAll("tr[data-contact-id]").forEach(function (row) {
    row.addEventListener("dragstart", function (event) {
      dragged = row.getAttribute("data-contact-id");
      row.classList.add("dragging");
      event.dataTransfer.setData("text/plain", dragged);
      event.dataTransfer.effectAllowed = "move";
    });
    row.addEventListener("dragend", function () { row.classList.remove("dragging"); });
  });
  document.querySelectorAll("[data-drop-folder]").forEach(function (target) {
    target.addEventListener("dragover", function (event) {
      if (dragged) { event.preventDefault(); target.classList.add("drop-over"); }
    });
    target.addEventListener("dragleave", function () { target.classList.remove("drop-over"); });
    target.addEventListener("drop", function (event) {
      event.preventDefault();
      target.classList.remove("drop-over");
      var id = event.dataTransfer.getData("text/plain") || dragged;
      if (!id) { return; }
      form.querySelectorAll("input[name=contact_id]").forEach(function (box) {
        box.checked = box.value === id;
      });
      form.querySelector("select[name=folder_id]").value = target.getAttribute("data-drop-folder");
      var status = document.getElementById("drag-status");
      if (status) { status.textContent = "Déplacement en cours…"; }
      form.requestSubmit();
    });
  });
})();
