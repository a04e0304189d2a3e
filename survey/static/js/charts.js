// Draws the charts of a page from their figure JSON (templates/macros/charts.html).
// Loaded with defer after the plotly bundle; the figures sit in JSON data blocks, so the page
// needs no inline script under the Content-Security-Policy.
"use strict";

(() => {
  const CONFIG = {
    displaylogo: false,
    responsive: true,
    modeBarButtonsToRemove: ["lasso2d", "select2d"],
  };

  function drawCharts() {
    const blocks = document.querySelectorAll('script[type="application/json"][data-chart-for]');
    if (blocks.length === 0 || typeof window.Plotly === "undefined") {
      return;
    }
    blocks.forEach((block) => {
      const container = document.getElementById(block.dataset.chartFor);
      if (!container) {
        return;
      }
      try {
        const figure = JSON.parse(block.textContent);
        window.Plotly.newPlot(container, figure.data || [], figure.layout || {}, CONFIG);
      } catch (error) {
        console.error(`chart ${container.id}:`, error); // the other charts still draw
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawCharts);
  } else {
    drawCharts();
  }
})();
