/* Scorecards: a sparkline of each card's daily values (ECharts, loaded by the page). Each
   element [data-spark] holds [[day, value], …]; its colour follows the card's status. */
(function () {
  "use strict";
  const COLOURS = { on_track: "#15803d", at_risk: "#b45309", off_track: "#b91c1c" };

  function shown(kind, value) {
    if (value === null || value === undefined) return "—";
    if (kind === "percentage") return value.toLocaleString(undefined, { maximumFractionDigits: 1 }) + "%";
    if (kind === "count") return Math.round(value).toLocaleString();
    return value.toLocaleString(undefined, { maximumFractionDigits: 2 });
  }

  function draw(element) {
    if (element.dataset.drawn || typeof echarts === "undefined") return;
    const points = JSON.parse(element.dataset.spark);
    const colour = COLOURS[element.dataset.status] || "#64748b";
    const kind = element.dataset.kind;
    const chart = echarts.init(element, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 4, right: 4, top: 6, bottom: 4 },
      xAxis: { type: "category", show: false, boundaryGap: false, data: points.map((p) => p[0]) },
      yAxis: { type: "value", show: false, scale: true },
      tooltip: {
        trigger: "axis",
        confine: true,
        axisPointer: { type: "line", lineStyle: { color: "#cfd4da" } },
        formatter: (items) => `${items[0].axisValue}<br><strong>${shown(kind, items[0].value)}</strong>`,
      },
      series: [{
        type: "line",
        data: points.map((p) => p[1]),
        smooth: false,
        symbol: "circle",
        symbolSize: 4,
        showSymbol: false,
        lineStyle: { width: 2, color: colour },
        itemStyle: { color: colour },
        areaStyle: { color: colour, opacity: 0.08 },
        markPoint: {
          symbol: "circle",
          symbolSize: 6,
          label: { show: false },
          data: [{ coord: [points.length - 1, points[points.length - 1][1]] }],
        },
      }],
    });
    element.dataset.drawn = "1";
    new ResizeObserver(() => chart.resize()).observe(element);
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-spark]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", () => drawAll());
  document.addEventListener("htmx:afterSettle", (event) => drawAll(event.target));
})();
