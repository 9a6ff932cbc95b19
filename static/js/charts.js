/* Draws every Plotly figure on the page. The server renders <div data-chart="ID"> next to a
   <script type="application/json" id="ID"> (Django's json_script), so no inline script is needed.
   Parts of a page loaded later (fragments.js) announce themselves with "fragment:loaded"; their charts
   are drawn then. */
(function () {
  "use strict";

  var CONFIG = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
    toImageButtonOptions: { format: "png", scale: 2 }
  };

  function draw(el) {
    if (el.classList.contains("is-rendered")) {
      return;
    }
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source || !window.Plotly) {
      return;
    }
    var figure;
    try {
      figure = JSON.parse(source.textContent);
    } catch (err) {
      el.setAttribute("data-chart-error", "invalid figure");
      return;
    }
    var plot = document.createElement("div");
    plot.className = "chart__plot";
    el.appendChild(plot);
    el.classList.add("is-rendered");
    window.Plotly.newPlot(plot, figure.data || [], figure.layout || {}, CONFIG);
  }

  function drawAll(root) {
    var charts = (root && root.querySelectorAll ? root : document).querySelectorAll("[data-chart]");
    for (var i = 0; i < charts.length; i++) {
      draw(charts[i]);
    }
  }

  document.addEventListener("fragment:loaded", function (event) {
    drawAll(event.target);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      drawAll(document);
    });
  } else {
    drawAll(document);
  }
})();
