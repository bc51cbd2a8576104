// The program form: add, remove and reorder level and rule rows; show only the inputs of the
// chosen accrual scheme. Rows are renumbered after each change so the names the server reads
// (levels-N-…, rules-N-…) stay 0..count-1 in the order on screen.
(function () {
  "use strict";
  var form = document.getElementById("program-form");
  if (!form) return;

  function renumber(kind) {
    var box = form.querySelector('[data-rows="' + kind + '"]');
    var rows = box.querySelectorAll(":scope > [data-row]");
    var re = new RegExp("^" + kind + "-(\\d+|__N__)-");
    rows.forEach(function (row, i) {
      row.querySelectorAll("[name]").forEach(function (el) {
        el.name = el.name.replace(re, kind + "-" + i + "-");
      });
      var s = row.querySelector(".rule-sentence");
      if (s) s.id = "rule-sentence-" + i;
    });
    form.querySelector('[data-count="' + kind + '"]').value = rows.length;
    document.body.dispatchEvent(new Event("rows-changed"));
  }

  function schemes(row) {
    var sel = row.querySelector('select[name$="-accrual_scheme"]');
    if (!sel) return;
    row.querySelectorAll("[data-scheme]").forEach(function (el) {
      el.hidden = el.getAttribute("data-scheme") !== sel.value;
    });
  }

  form.querySelectorAll(".level-row").forEach(schemes);

  form.addEventListener("change", function (ev) {
    if (ev.target.matches('select[name$="-accrual_scheme"]')) schemes(ev.target.closest("[data-row]"));
  });

  form.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button");
    if (!btn) return;
    var kind = btn.getAttribute("data-add");
    if (kind) {
      var tpl = document.getElementById(kind === "levels" ? "level-template" : "rule-template");
      var box = form.querySelector('[data-rows="' + kind + '"]');
      box.appendChild(tpl.content.cloneNode(true));
      var row = box.lastElementChild;
      renumber(kind);
      schemes(row);
      var first = row.querySelector('input[type="text"], input[type="checkbox"]');
      if (first) first.focus();
      return;
    }
    var row2 = btn.closest("[data-row]");
    if (!row2) return;
    var kind2 = row2.parentElement.getAttribute("data-rows");
    if (btn.hasAttribute("data-remove")) {
      row2.remove();
      renumber(kind2);
    } else if (btn.hasAttribute("data-move")) {
      var up = btn.getAttribute("data-move") === "-1";
      var sib = up ? row2.previousElementSibling : row2.nextElementSibling;
      if (sib) row2.parentElement.insertBefore(row2, up ? sib : sib.nextElementSibling);
      renumber(kind2);
      btn.focus();
    }
  });
})();
