// Confirmations and print buttons without inline handlers: the Content-Security-Policy
// of the cabinets lets scripts come from this site's files only (hub/web/ui/__init__.py).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form && form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) { event.preventDefault(); event.stopImmediatePropagation(); }
}, true);
document.addEventListener("click", function (event) {
  var button = event.target && event.target.closest && event.target.closest("[data-print]");
  if (button) { window.print(); }
});
