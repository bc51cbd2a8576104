// Keyboard-first cashier's workplace: F2 search, F4 amount, F8 quote, F9 commit.
document.addEventListener("keydown", function (e) {
  var map = { F2: "client-q", F4: "sale-amount", F8: "btn-quote", F9: "btn-sale" };
  var id = map[e.key];
  if (!id) return;
  var el = document.getElementById(id);
  if (!el) return;
  e.preventDefault();
  if (el.tagName === "BUTTON") el.click(); else { el.focus(); if (el.select) el.select(); }
});
// A fragment with an autofocus field (code, next sale) takes the focus when it arrives.
document.addEventListener("htmx:afterSettle", function (e) {
  var el = e.detail.elt && e.detail.elt.querySelector && e.detail.elt.querySelector("[autofocus]");
  if (el) el.focus();
});
// Enter in the client's code commits the sale (the field lives outside the sale form); here,
// not in an onkeydown attribute, which the Content-Security-Policy refuses.
document.addEventListener("keydown", function (e) {
  if (e.key !== "Enter" || !e.target || e.target.id !== "spend-code") return;
  e.preventDefault();
  var button = document.getElementById("btn-sale");
  if (button) button.click();
});
