/* Health charts: the dashboard's donut, trend and breakdown, and the account panel's sparkline
 * and history (ECharts, vendored; no network needed).
 *
 * Every element with data-chart="donut|trend|breakdown|sparkline|history" is drawn from the
 * JSON in the <script type="application/json"> whose id is its data-source. Charts are drawn
 * when the page loads and whenever htmx swaps new content in (the breakdown selector), and
 * disposed when htmx removes them. A slice or bar segment that counts accounts opens the
 * accounts list filtered to them: the URL comes with the data, built by the server. A day
 * clicked on an account's history chart is explained in the panel (htmx).
 */
(function () {
  "use strict";

  var COLORS = { good: "#2f9e5b", average: "#e3a008", poor: "#d9463b", unscored: "#cbd5e1" };
  var LABELS = { good: "Good", average: "Average", poor: "Poor", unscored: "No score" };
  var AXIS = { color: "#6b7280", fontSize: 11 };
  var GRID_LINE = { lineStyle: { color: "#eef0f3" } };
  var INK = "#1f2937";

  function open(url) {
    if (url) window.location.assign(url);
  }

  function plural(n, word) {
    return n.toLocaleString() + " " + word + (n === 1 ? "" : "s");
  }

  /* Runs of the same rank as visualMap pieces over the x index, so a line takes the colour
   * of the rank the account had on each day. */
  function rankPieces(ranks) {
    var pieces = [], start = 0;
    for (var i = 1; i <= ranks.length; i++) {
      if (i === ranks.length || ranks[i] !== ranks[start]) {
        // [start, i): the line holds a day's rank until the next day's point.
        pieces.push({ gte: start, lt: i, color: COLORS[ranks[start]] || COLORS.unscored });
        start = i;
      }
    }
    return pieces;
  }

  var builders = {
    donut: function (data) {
      var score = data.score === null || data.score === undefined ? "—" : String(Math.round(data.score));
      return {
        animation: false,
        tooltip: { trigger: "item", formatter: function (p) {
          return "<strong>" + p.name + "</strong><br>" + plural(p.value, "paying account") +
            " (" + Math.round(p.percent) + "%)<br><span style=\"color:#6b7280\">Click to open them</span>";
        } },
        graphic: [
          { type: "text", left: "center", top: "38%", style: { text: score, fontSize: 34, fontWeight: 700, fill: INK, textAlign: "center" } },
          { type: "text", left: "center", top: "58%", style: { text: "Population health", fontSize: 11, fill: "#6b7280", textAlign: "center" } }
        ],
        series: [{
          type: "pie", radius: ["64%", "92%"], center: ["50%", "50%"], cursor: "pointer",
          avoidLabelOverlap: false, label: { show: false }, labelLine: { show: false },
          itemStyle: { borderColor: "#fff", borderWidth: 2 },
          emphasis: { scale: true, scaleSize: 4 },
          data: data.slices.map(function (s) {
            return { name: s.name, value: s.value, itemStyle: { color: COLORS[s.rank] } };
          })
        }]
      };
    },
    trend: function (data) {
      var ranks = ["poor", "average", "good"];
      var series = ranks.map(function (rank) {
        return {
          name: LABELS[rank], type: "line", stack: "ranks", data: data.counts[rank],
          showSymbol: false, smooth: false, lineStyle: { width: 0 },
          areaStyle: { color: COLORS[rank], opacity: 0.85 }, itemStyle: { color: COLORS[rank] }
        };
      });
      series.push({
        name: "Population health", type: "line", yAxisIndex: 1, data: data.population,
        showSymbol: false, connectNulls: false,
        lineStyle: { color: INK, width: 2, type: "dashed" }, itemStyle: { color: INK }
      });
      return {
        animation: false,
        legend: { top: 0, left: 0, itemWidth: 14, itemHeight: 8, textStyle: { color: "#374151", fontSize: 12 },
                  data: [{ name: "Good", icon: "roundRect" }, { name: "Average", icon: "roundRect" },
                         { name: "Poor", icon: "roundRect" },
                         { name: "Population health", icon: "path://M0,3h5v2h-5z M7,3h5v2h-5z M14,3h5v2h-5z" }] },
        grid: { left: 8, right: 8, top: 34, bottom: 4, containLabel: true },
        tooltip: {
          trigger: "axis",
          formatter: function (items) {
            var i = items[0].dataIndex;
            var lines = ["<strong>" + data.dates[i] + "</strong>"];
            ["good", "average", "poor"].forEach(function (rank) {
              lines.push('<span style="color:' + COLORS[rank] + '">●</span> ' + LABELS[rank] + ": " + data.counts[rank][i].toLocaleString());
            });
            var p = data.population[i];
            lines.push("Population health: " + (p === null ? "—" : p));
            return lines.join("<br>");
          }
        },
        xAxis: { type: "category", data: data.labels, boundaryGap: false, axisTick: { show: false },
                 axisLine: { lineStyle: { color: "#cfd4da" } }, axisLabel: Object.assign({ interval: 14 }, AXIS) },
        yAxis: [
          { type: "value", minInterval: 1, splitLine: GRID_LINE, axisLabel: AXIS },
          { type: "value", min: 0, max: 100, interval: 25, splitLine: { show: false }, axisLabel: AXIS }
        ],
        series: series
      };
    },
    breakdown: function (data) {
      return {
        animation: false,
        legend: { top: 0, left: 0, itemWidth: 12, itemHeight: 8, textStyle: { color: "#374151", fontSize: 12 } },
        grid: { left: 8, right: 24, top: 30, bottom: 4, containLabel: true },
        tooltip: {
          trigger: "axis", axisPointer: { type: "shadow" },
          formatter: function (items) {
            var i = items[0].dataIndex, total = 0;
            items.forEach(function (it) { total += it.value; });
            var lines = ["<strong>" + data.groups[i] + "</strong> · " + plural(total, "account")];
            items.forEach(function (it) {
              lines.push(it.marker + it.seriesName + ": " + it.value.toLocaleString() +
                (total ? " (" + Math.round(100 * it.value / total) + "%)" : ""));
            });
            return lines.join("<br>");
          }
        },
        xAxis: { type: "value", minInterval: 1, splitLine: GRID_LINE, axisLabel: AXIS },
        yAxis: { type: "category", inverse: true, data: data.groups, axisTick: { show: false },
                 axisLine: { show: false },
                 axisLabel: Object.assign({ width: 150, overflow: "truncate" }, AXIS, { color: INK, fontSize: 12 }) },
        series: data.series.map(function (s) {
          return {
            name: s.name, type: "bar", stack: "ranks", barMaxWidth: 22, cursor: "pointer",
            itemStyle: { color: COLORS[s.rank] },
            label: { show: true, color: "#fff", fontSize: 11, fontWeight: 600,
                     formatter: function (p) { return p.value >= 3 ? p.value : ""; } },
            data: s.values
          };
        })
      };
    },
    sparkline: function (data) {
      return {
        animation: false,
        grid: { left: 2, right: 2, top: 3, bottom: 3 },
        tooltip: { trigger: "axis", formatter: function (items) {
          var v = items[0].value;
          return v === null || v === undefined ? "No score" : "Score " + v;
        } },
        xAxis: { type: "category", show: false, boundaryGap: false, data: data.scores.map(function (_, i) { return i; }) },
        yAxis: { type: "value", show: false, min: 0, max: 100 },
        visualMap: { show: false, type: "piecewise", dimension: 0, pieces: rankPieces(data.ranks) },
        series: [{ type: "line", step: "end", data: data.scores, showSymbol: false, connectNulls: false, lineStyle: { width: 2 } }]
      };
    },
    history: function (data) {
      var changes = data.changes.map(function (c) {
        return { value: [c.index, data.scores[c.index]], text: c.text, itemStyle: { color: COLORS[c.rank] } };
      });
      return {
        animation: false,
        grid: { left: 8, right: 12, top: 22, bottom: 4, containLabel: true },
        tooltip: {
          trigger: "axis",
          formatter: function (items) {
            var i = items[0].dataIndex, lines = ["<strong>" + data.dates[i] + "</strong>"];
            var s = data.scores[i];
            lines.push(s === null ? "No score" : "Score " + s + " · " + (LABELS[data.ranks[i]] || "no rank"));
            data.changes.forEach(function (c) { if (c.index === i) lines.push(c.text); });
            data.versions.forEach(function (v) { if (v.index === i) lines.push("Profile " + v.text + " from this day"); });
            if (data.explain_url && s !== null) lines.push('<span style="color:#6b7280">Click to explain this day</span>');
            return lines.join("<br>");
          }
        },
        xAxis: { type: "category", data: data.labels, boundaryGap: false, axisTick: { show: false },
                 axisLine: { lineStyle: { color: "#cfd4da" } }, axisLabel: Object.assign({ interval: 14 }, AXIS) },
        yAxis: { type: "value", min: 0, max: 100, interval: 25, splitLine: GRID_LINE, axisLabel: AXIS },
        visualMap: { show: false, type: "piecewise", dimension: 0, seriesIndex: 0, pieces: rankPieces(data.ranks) },
        series: [
          {
            name: "Score", type: "line", step: "end", data: data.scores, showSymbol: false, connectNulls: false,
            lineStyle: { width: 2.5 },
            markLine: {
              symbol: "none", silent: true,
              lineStyle: { color: "#7c3aed", type: "solid", width: 1.5 },
              label: { formatter: "{b}", color: "#7c3aed", fontSize: 11, position: "end" },
              data: data.versions.map(function (v) { return { xAxis: v.index, name: v.text }; })
            }
          },
          {
            name: "Changes of rank", type: "scatter", data: changes, symbolSize: 10,
            itemStyle: { borderColor: "#fff", borderWidth: 2 }, z: 5
          }
        ]
      };
    }
  };

  function draw(element) {
    if (element.getAttribute("data-drawn") || !window.echarts) return;
    var source = document.getElementById(element.getAttribute("data-source"));
    var kind = element.getAttribute("data-chart");
    var build = builders[kind];
    if (!source || !build) return;
    var data = JSON.parse(source.textContent);
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(build(data));
    if (kind === "donut") {
      chart.on("click", function (p) { open(data.slices[p.dataIndex].url); });
    } else if (kind === "breakdown") {
      chart.on("click", function (p) { open(data.series[p.seriesIndex].urls[p.dataIndex]); });
    } else if (kind === "history" && data.explain_url) {
      // A click anywhere over a day (not only on a mark) explains that day in the panel.
      chart.getZr().on("click", function (event) {
        var at = chart.convertFromPixel({ gridIndex: 0 }, [event.offsetX, event.offsetY]);
        var i = at ? Math.round(at[0]) : -1;
        if (!(i >= 0 && i < data.dates.length) || data.scores[i] === null || !window.htmx) return;
        window.htmx.ajax("GET", data.explain_url + "?date=" + data.dates[i],
                         { target: "#health-explanation", swap: "outerHTML" });
      });
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

  function setUp() {
    if (window.htmx) {
      window.htmx.onLoad(drawAll);
      document.addEventListener("htmx:beforeCleanupElement", function (event) {
        var chart = window.echarts && window.echarts.getInstanceByDom(event.target);
        if (chart) chart.dispose();
      });
    }
    drawAll(document);
  }

  /* ECharts is either on the page already (the dashboard; the usage panel's script tag on
   * an account's profile) or loaded here from data-echarts, once the document is parsed:
   * by then every deferred script of the page has run, so it is never loaded twice. */
  function start() {
    if (window.tendHealthCharts) return;
    window.tendHealthCharts = true;
    if (window.echarts) return setUp();
    var source = script && script.getAttribute("data-echarts");
    if (!source) return;
    var tag = document.createElement("script");
    tag.src = source;
    tag.onload = setUp;
    document.head.appendChild(tag);
  }

  var script = document.currentScript;
  if (document.readyState === "complete") {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
