/* A segment's members day by day (ECharts, vendored): the element with
   data-chart="segment-counts" is drawn from the JSON [[day, members], …] in the script whose
   id is its data-source. */
(function () {
  "use strict";

  function draw() {
    var element = document.querySelector('[data-chart="segment-counts"]');
    if (!element || !window.echarts || element.hasAttribute("data-drawn")) return;
    var points = JSON.parse(document.getElementById(element.dataset.source).textContent);
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      grid: { left: 48, right: 16, top: 14, bottom: 28 },
      tooltip: {
        trigger: "axis",
        formatter: function (items) {
          var p = items[0];
          return echarts.time.format(p.value[0], "{MMM} {d}, {yyyy}") + "<br><strong>" +
            p.value[1].toLocaleString() + "</strong> member" + (p.value[1] === 1 ? "" : "s");
        }
      },
      xAxis: {
        type: "time", axisLine: { lineStyle: { color: "#cfd4da" } },
        axisLabel: { color: "#6b7280", fontSize: 11, hideOverlap: true }, splitLine: { show: false }
      },
      yAxis: {
        type: "value", minInterval: 1, axisLabel: { color: "#6b7280", fontSize: 11 },
        splitLine: { lineStyle: { color: "#eef0f3" } }
      },
      series: [{
        type: "line", data: points, step: "end", showSymbol: points.length < 40, symbolSize: 5,
        lineStyle: { color: "#0f766e", width: 2 }, itemStyle: { color: "#0f766e" },
        areaStyle: { color: "rgba(15, 118, 110, 0.08)" }
      }]
    });
    element.setAttribute("data-drawn", "");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", draw);
  window.addEventListener("load", draw);
})();
