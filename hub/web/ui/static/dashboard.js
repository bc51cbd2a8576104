(function () {
  var el = document.getElementById("chart-data");
  if (!el || !window.Chart) return;
  var d = JSON.parse(el.textContent);
  var rub = new Intl.NumberFormat("ru-RU", { maximumFractionDigits: 0 });
  var opts = { responsive: true, maintainAspectRatio: false, animation: false,
    scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return rub.format(v); } } } },
    plugins: { legend: { position: "bottom" },
      tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + rub.format(c.parsed.y); } } } } };
  new Chart(document.getElementById("revenue-chart"), { type: "bar", options: Object.assign({}, opts, { scales: { x: { stacked: true }, y: Object.assign({ stacked: true }, opts.scales.y) } }),
    data: { labels: d.labels, datasets: [
      { label: "Участники, ₽", data: d.members, backgroundColor: "#0b69a3" },
      { label: "Анонимные, ₽", data: d.anonymous, backgroundColor: "#9fb3c8" } ] } });
  new Chart(document.getElementById("bonus-chart"), { type: "line", options: opts,
    data: { labels: d.labels, datasets: [
      { label: "Начислено", data: d.earned, borderColor: "#1c7c4a", backgroundColor: "#1c7c4a" },
      { label: "Списано", data: d.spent, borderColor: "#b42318", backgroundColor: "#b42318" } ] } });
})();
