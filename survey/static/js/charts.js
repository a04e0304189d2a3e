// Draws the charts of a page from their figure JSON (templates/macros/charts.html).
// Loaded with defer after the plotly bundle; the figures sit in JSON data blocks, so the page
// needs no inline script under the Content-Security-Policy.
//
// A chart is drawn when it comes near the screen, one chart per task: a results page holds
// several charts, and drawing them all at load blocks a phone's main thread for seconds. The
// plotly bundle itself (data-plotly on this script's tag, same origin) is fetched then too.
"use strict";

(() => {
  const bundle = document.currentScript && document.currentScript.dataset.plotly;
  let plotlyLoading = null;

  function withPlotly(callback) {
    if (typeof window.Plotly !== "undefined") {
      callback();
      return;
    }
    if (!plotlyLoading) {
      plotlyLoading = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = bundle;
        script.onload = resolve;
        script.onerror = () => reject(new Error(`could not load ${bundle}`));
        document.head.appendChild(script);
      });
    }
    plotlyLoading.then(callback, (error) => console.error(error));
  }

  const CONFIG = {
    displaylogo: false,
    responsive: true,
    modeBarButtonsToRemove: ["lasso2d", "select2d"],
  };

  // On a phone plotly cuts long category labels off at the chart's left edge: they are broken
  // over lines there (and the chart grows a little to make room for them).
  const NARROW = 480;
  const LINE = 22; // characters

  function breakLabel(label) {
    if (typeof label !== "string" || label.length <= LINE) {
      return label;
    }
    const lines = [""];
    label.split(" ").forEach((word) => {
      const last = lines[lines.length - 1];
      if (last && `${last} ${word}`.length > LINE) {
        lines.push(word);
      } else {
        lines[lines.length - 1] = last ? `${last} ${word}` : word;
      }
    });
    return lines.join("<br>");
  }

  function fitLabels(figure, width) {
    const layout = figure.layout || {};
    const axis = layout.yaxis || {};
    if (width >= NARROW || axis.type !== "category") {
      return;
    }
    const labels = new Set();
    (figure.data || []).forEach((trace) => {
      if (Array.isArray(trace.y)) {
        trace.y.forEach((label) => labels.add(label));
        trace.y = trace.y.map(breakLabel);
      }
    });
    if (Array.isArray(axis.categoryarray)) {
      axis.categoryarray = axis.categoryarray.map(breakLabel);
    }
    const extraLines = Array.from(labels).reduce(
      (sum, label) => sum + String(breakLabel(label)).split("<br>").length - 1,
      0,
    );
    if (layout.height) {
      layout.height += 14 * extraLines;
    }
  }

  function draw(block) {
    const container = document.getElementById(block.dataset.chartFor);
    if (!container || container.dataset.drawn) {
      return;
    }
    container.dataset.drawn = "true";
    try {
      const figure = JSON.parse(block.textContent);
      fitLabels(figure, container.clientWidth);
      window.Plotly.newPlot(container, figure.data || [], figure.layout || {}, CONFIG);
    } catch (error) {
      console.error(`chart ${container.id}:`, error); // the other charts still draw
    }
  }

  // A chart the server drew as SVG (data-on-request) is drawn by plotly only when the reader
  // presses its button: plotly's start alone takes a phone seconds.
  function offerInteractive(block) {
    const container = document.getElementById(block.dataset.chartFor);
    const button = document.querySelector(`button[data-chart-draw="${block.dataset.chartFor}"]`);
    if (!container || !button) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", () => {
      withPlotly(() => {
        container.replaceChildren();
        container.classList.remove("chart-drawn");
        draw(block);
        button.hidden = true;
        container.focus();
      });
    });
  }

  function drawCharts() {
    const all = document.querySelectorAll('script[type="application/json"][data-chart-for]');
    if (all.length === 0 || (!bundle && typeof window.Plotly === "undefined")) {
      return;
    }
    const onRequest = (block) => {
      const container = document.getElementById(block.dataset.chartFor);
      return container !== null && container.hasAttribute("data-on-request");
    };
    all.forEach((block) => {
      if (onRequest(block)) {
        offerInteractive(block);
      }
    });
    const blocks = Array.from(all).filter((block) => !onRequest(block));
    if (blocks.length === 0) {
      return;
    }
    if (!("IntersectionObserver" in window)) {
      withPlotly(() => blocks.forEach(draw));
      return;
    }
    const blockFor = new Map();
    const observer = new IntersectionObserver(
      (entries) => {
        entries
          .filter((entry) => entry.isIntersecting)
          .forEach((entry) => {
            observer.unobserve(entry.target);
            // Its own task, so that drawing several charts never blocks input for long.
            withPlotly(() => window.setTimeout(() => draw(blockFor.get(entry.target)), 0));
          });
      },
      { rootMargin: "300px 0px" },
    );
    blocks.forEach((block) => {
      const container = document.getElementById(block.dataset.chartFor);
      if (container) {
        blockFor.set(container, block);
        observer.observe(container);
      }
    });
    // Printing draws what is still waiting, so a printed page has every chart.
    window.addEventListener("beforeprint", () => withPlotly(() => blocks.forEach(draw)));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawCharts);
  } else {
    drawCharts();
  }
})();
