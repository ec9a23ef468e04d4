/* Charts of the account profile's usage panel (ECharts, vendored; no network needed).
 *
 * Every element with data-chart="daily|modules|metric" is drawn from the JSON in the
 * <script type="application/json"> whose id is its data-source. Charts are drawn when the
 * page loads and whenever htmx swaps new content in (the scope switch), and disposed when
 * htmx removes them. Clicking a module's bar filters the activity stream by that module.
 */
(function () {
  "use strict";

  var ACCENT = "#0f766e";
  var LINE = "#b45309";
  var AXIS = { color: "#6b7280", fontSize: 11 };
  var GRID_LINE = { lineStyle: { color: "#eef0f3" } };

  function compact(value) {
    if (value >= 1e6) return Number((value / 1e6).toFixed(value >= 1e7 ? 0 : 1)) + "M";
    if (value >= 1e3) return Number((value / 1e3).toFixed(value >= 1e4 ? 0 : 1)) + "k";
    return String(value);
  }

  var builders = {
    daily: function (data) {
      return {
        animation: false,
        grid: { left: 8, right: 8, top: 16, bottom: 4, containLabel: true },
        tooltip: {
          trigger: "axis",
          axisPointer: { type: "shadow" },
          formatter: function (items) {
            var i = items[0].dataIndex;
            return "<strong>" + data.dates[i] + "</strong><br>" +
              data.events[i].toLocaleString() + " events<br>" +
              data.users[i].toLocaleString() + " active user" + (data.users[i] === 1 ? "" : "s");
          }
        },
        xAxis: {
          type: "category", data: data.labels, axisTick: { show: false },
          axisLine: { lineStyle: { color: "#cfd4da" } },
          axisLabel: Object.assign({ interval: 13 }, AXIS)
        },
        yAxis: [
          { type: "value", minInterval: 1, splitLine: GRID_LINE,
            axisLabel: Object.assign({ formatter: compact }, AXIS) },
          { type: "value", minInterval: 1, splitLine: { show: false },
            axisLabel: Object.assign({ formatter: compact }, AXIS) }
        ],
        series: [
          { name: "Events", type: "bar", data: data.events, barMaxWidth: 10,
            itemStyle: { color: ACCENT, borderRadius: [2, 2, 0, 0] } },
          { name: "Active users", type: "line", yAxisIndex: 1, data: data.users,
            showSymbol: false, lineStyle: { color: LINE, width: 2 }, itemStyle: { color: LINE } }
        ]
      };
    },
    modules: function (data) {
      return {
        animation: false,
        grid: { left: 8, right: 36, top: 4, bottom: 4, containLabel: true },
        tooltip: { trigger: "item", formatter: function (p) {
          return "<strong>" + p.name + "</strong><br>" + p.value.toLocaleString() + " events";
        } },
        xAxis: { type: "value", show: false },
        yAxis: { type: "category", data: data.names, axisTick: { show: false },
                 axisLine: { show: false },
                 axisLabel: Object.assign({ width: 130, overflow: "truncate" }, AXIS, { color: "#1f2937", fontSize: 12 }) },
        series: [{
          type: "bar", data: data.events, barMaxWidth: 16, cursor: "pointer",
          itemStyle: { color: ACCENT, borderRadius: [0, 3, 3, 0] },
          label: { show: true, position: "right", color: "#6b7280", fontSize: 11, formatter: function (p) { return compact(p.value); } }
        }]
      };
    },
    metric: function (data) {
      return {
        animation: false,
        grid: { left: 4, right: 4, top: 6, bottom: 4, containLabel: true },
        tooltip: { trigger: "axis", formatter: function (items) {
          var p = items[0];
          return p.axisValue + ": " + (p.value === null || p.value === undefined ? "no value" : Number(p.value).toLocaleString());
        } },
        xAxis: { type: "category", data: data.labels, show: false, boundaryGap: false },
        yAxis: { type: "value", scale: true, splitNumber: 2, splitLine: GRID_LINE,
                 axisLabel: Object.assign({ formatter: compact }, AXIS) },
        series: [{ type: "line", data: data.values, connectNulls: true, showSymbol: false,
                   lineStyle: { color: ACCENT, width: 1.5 }, itemStyle: { color: ACCENT },
                   areaStyle: { color: "rgba(15, 118, 110, 0.08)" } }]
      };
    }
  };

  function filterStreamByModule(module) {
    var select = document.getElementById("activity-module");
    if (!select || !module) return;
    if (!Array.prototype.some.call(select.options, function (o) { return o.value === module; })) return;
    select.value = module;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    var stream = document.getElementById("usage-activity");
    if (stream) stream.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  function draw(element) {
    if (element.getAttribute("data-drawn") || !window.echarts) return;
    var source = document.getElementById(element.getAttribute("data-source"));
    var build = builders[element.getAttribute("data-chart")];
    if (!source || !build) return;
    var data = JSON.parse(source.textContent);
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(build(data));
    if (element.getAttribute("data-chart") === "modules") {
      chart.on("click", function (params) { filterStreamByModule(data.keys[params.dataIndex]); });
    }
    element.setAttribute("data-drawn", "1");
    if (window.ResizeObserver) {
      new ResizeObserver(function () { chart.resize(); }).observe(element);
    }
  }

  function drawAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-chart]")) draw(scope);
    Array.prototype.forEach.call(scope.querySelectorAll("[data-chart]"), draw);
  }

  if (window.htmx) {
    window.htmx.onLoad(drawAll);
    document.addEventListener("htmx:beforeCleanupElement", function (event) {
      var chart = window.echarts && window.echarts.getInstanceByDom(event.target);
      if (chart) chart.dispose();
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
})();
