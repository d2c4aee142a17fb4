// The throughput chart: tasks finished per second, one line per queue (uPlot).

const COLORS = ["#2e86c1", "#28b463", "#d35400", "#8e44ad", "#c0392b", "#17a589", "#7f8c8d"];
let plot;
let shown = "";
let watching;

/** The chart follows its box's width (a phone turned, a window narrowed). */
function followWidth(holder) {
  if (watching) return;
  watching = new ResizeObserver(() => plot?.setSize({ width: Math.max(280, holder.clientWidth), height: 220 }));
  watching.observe(holder);
}

export function drawChart(holder, throughput) {
  followWidth(holder);
  const queues = Object.keys(throughput.queues).sort();
  const data = [throughput.at, ...queues.map((q) => throughput.queues[q])];
  const width = Math.max(280, holder.clientWidth);
  if (!plot || shown !== queues.join()) {
    plot?.destroy();
    shown = queues.join();
    const series = [{}, ...queues.map((q, i) => ({ label: q, stroke: COLORS[i % COLORS.length], width: 2 }))];
    plot = new globalThis.uPlot({ width, height: 220, series, axes: [{}, { label: "tasks/s" }], scales: { x: { time: true } } }, data, holder);
    return;
  }
  if (plot.width !== width) plot.setSize({ width, height: 220 });
  plot.setData(data);
}
