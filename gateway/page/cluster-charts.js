// Live charts from the gateway's /metrics/summary (its prom-client counters, read every 2 s):
// writes/s, reads/s, queue depth and messages/s, FTP imports and failovers, drawn with uPlot.
// The counters become rates between two reads; the last 5 minutes are kept.

const CHART_POINTS = 150;
const CHARTS = [
  { key: 'writes', title: 'writes/s', rate: true },
  { key: 'reads', title: 'reads/s', rate: true },
  { key: 'queueLag', title: 'queue depth (messages ready)', rate: false },
  { key: 'queueMessages', title: 'queue consumed/s', rate: true },
  { key: 'ftpImports', title: 'FTP imports (total)', rate: false },
  { key: 'failovers', title: 'failovers (total)', rate: false },
];
const series = { at: [], ...Object.fromEntries(CHARTS.map((c) => [c.key, []])) };
let previous = null;
const plots = new Map();

function chartFor(chart) {
  let plot = plots.get(chart.key);
  if (plot) return plot;
  const box = document.createElement('div');
  box.className = 'chart';
  box.dataset.chart = chart.key;
  box.innerHTML = '<div class="chart-title"></div><div class="chart-value" data-testid="chart-value"></div>';
  box.querySelector('.chart-title').textContent = chart.title;
  document.getElementById('charts').append(box);
  plot = new uPlot(
    {
      width: 280,
      height: 110,
      legend: { show: false },
      cursor: { show: false },
      axes: [
        // No time labels: the window is the last 5 minutes, the value is in the corner.
        { show: false },
        { stroke: '#8a96a3', grid: { stroke: '#222c36' }, ticks: { show: false }, size: 40 },
      ],
      scales: {
        y: { range: (_u, min, max) => [0, Math.max(1, max, min)] },
      },
      series: [{}, { stroke: '#58a6ff', fill: 'rgba(88,166,255,0.15)', width: 1.5 }],
    },
    [[], []],
    box,
  );
  plots.set(chart.key, plot);
  return plot;
}

async function sample() {
  try {
    const res = await fetch('/metrics/summary');
    const now = await res.json();
    if (previous) {
      const seconds = Math.max(0.001, (now.at - previous.at) / 1000);
      series.at.push(now.at / 1000);
      for (const c of CHARTS)
        series[c.key].push(c.rate ? Math.max(0, now[c.key] - previous[c.key]) / seconds : now[c.key]);
      if (series.at.length > CHART_POINTS) for (const k of Object.keys(series)) series[k].shift();
      for (const c of CHARTS) {
        const plot = chartFor(c);
        plot.setData([series.at, series[c.key]]);
        const last = series[c.key].at(-1);
        const box = plot.root.parentElement;
        box.querySelector('.chart-value').textContent = Number.isInteger(last)
          ? String(last)
          : last.toFixed(1);
      }
    }
    previous = now;
  } catch {
    // The gateway is away: the next sample tries again.
  }
}

// Drawn empty at once, so the page does not move when the first rates arrive.
for (const c of CHARTS) chartFor(c);
sample();
setInterval(sample, 2000);
