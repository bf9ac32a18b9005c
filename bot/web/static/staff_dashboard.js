// The staff dashboard's charts, drawn by Chart.js from /staff/api/stats.
(function () {
  "use strict";
  var script = document.currentScript;
  var statsUrl = script.dataset.stats;
  var weekOf = script.dataset.weekOf;
  var countLabel = script.dataset.count;
  var languages = JSON.parse(script.dataset.languages);
  var palette = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
  ];

  function colour(i) { return palette[i % palette.length]; }

  function weekLabels(weeks, language) {
    var format = new Intl.DateTimeFormat(language === "nl" ? "nl-NL" : "en-GB", { day: "numeric", month: "short" });
    return weeks.map(function (monday) { return format.format(new Date(monday + "T12:00:00")); });
  }

  function stacked(id, labels, datasets, horizontal) {
    return new Chart(document.getElementById(id), {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: horizontal ? "y" : "x",
        scales: {
          x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
        },
        plugins: {
          legend: { position: "bottom", display: datasets.length > 1 },
          tooltip: {
            callbacks: horizontal ? {} : { title: function (items) { return weekOf + " " + items[0].label; } },
          },
        },
      },
    });
  }

  function draw(stats) {
    var weeks = weekLabels(stats.weeks, stats.language);
    stacked("chart-reasons", weeks, stats.changes_by_reason.map(function (series, i) {
      return { label: series.label, data: series.counts, backgroundColor: colour(i) };
    }));
    stacked("chart-suppliers", weeks, stats.changes_by_supplier.map(function (series, i) {
      return { label: series.label, data: series.counts, backgroundColor: colour(i) };
    }));
    var warnings = stats.warnings.by_status.concat([stats.warnings.shown, stats.warnings.opted_out]);
    stacked("chart-warnings", warnings.map(function (w) { return w.label; }), [{
      label: countLabel,
      data: warnings.map(function (w) { return w.count; }),
      backgroundColor: warnings.map(function (_w, i) { return colour(i); }),
    }], true);
    stacked("chart-promises", stats.promises.kinds.map(function (k) { return k.label; }),
      stats.promises.statuses.map(function (status, i) {
        return { label: status.label, data: status.counts, backgroundColor: colour(i) };
      }));
    stacked("chart-questions", stats.questions.map(function (q) { return q.label; }), [
      { label: languages.nl, data: stats.questions.map(function (q) { return q.nl; }), backgroundColor: colour(0) },
      { label: languages.en, data: stats.questions.map(function (q) { return q.en; }), backgroundColor: colour(1) },
      {
        label: languages.unknown,
        data: stats.questions.map(function (q) { return q.total - q.nl - q.en; }),
        backgroundColor: colour(7),
      },
    ], true);
  }

  fetch(statsUrl, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("stats: HTTP " + response.status); }
      return response.json();
    })
    .then(draw)
    .catch(function () { document.getElementById("chart-error").hidden = false; });
})();
