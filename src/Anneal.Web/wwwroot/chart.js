// Line charts on uPlot (vendored at build time). Series may have their own x values (runs logged at different
// steps): they are joined onto one x axis with gaps. A series can sit on the second axis (learning rate) and
// two series can bound a shaded band.
const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

export function color(i) { return palette[i % palette.length]; }

/** Tick labels that stay readable for learning rates (3e-4) and token counts (1e9) alike. */
function ticks(u, vals) {
  return vals.map(v => v === null || v === undefined ? '' : v !== 0 && (Math.abs(v) < 1e-2 || Math.abs(v) >= 1e6)
    ? v.toExponential(1).replace('e-', 'e−') : String(+v.toPrecision(6)));
}

export function chartsAvailable() { return typeof window.uPlot === 'function'; }

/**
 * Draws (or redraws) a chart into holder. spec: { title, xLabel, yLabel, y2Label, xLog, yLog, xInteger, height,
 * series: [{ label, x, y, color, axis: 'y'|'y2', dash, width, points, pointSize, stepped, band: { low, high } }] }.
 * Returns the uPlot instance (holder.chart), reusing it when only the data changed.
 */
export function drawChart(holder, spec) {
  if (!chartsAvailable()) {
    if (!holder.querySelector('.chart-missing')) {
      holder.replaceChildren();
      const m = document.createElement('div');
      m.className = 'chart-missing';
      m.textContent = 'Charts are unavailable: this server was built without its chart library (npm was missing at build time). The numbers below are complete.';
      holder.append(m);
    }
    return null;
  }
  // Every series (and band bound) joined on one sorted x axis.
  const cols = [];
  for (const s of spec.series) {
    cols.push([s.x, s.y]);
    if (s.band) { cols.push([s.x, s.band.low]); cols.push([s.x, s.band.high]); }
  }
  const data = window.uPlot.join(cols.map(([x, y]) => [Array.from(x, Number), Array.from(y, v => (v === null || v === undefined ? null : v))]));
  const series = [{ label: spec.xLabel || 'step' }];
  const bands = [];
  let k = 1;
  spec.series.forEach((s, i) => {
    const c = s.color || color(i);
    series.push({ label: s.label, stroke: c, width: s.width || 1.5, dash: s.dash, scale: s.axis === 'y2' ? 'y2' : 'y', spanGaps: true,
      points: { show: !!s.points, size: s.pointSize || 3, fill: c, stroke: c },
      paths: s.points ? () => null : s.stepped ? window.uPlot.paths.stepped({ align: 1 }) : undefined });
    k++;
    if (s.band) {
      series.push({ label: `${s.label} (low)`, stroke: c + '55', width: 0.5, scale: 'y', spanGaps: true });
      series.push({ label: `${s.label} (high)`, stroke: c + '55', width: 0.5, scale: 'y', spanGaps: true });
      bands.push({ series: [k + 1, k], fill: c + '22' });
      k += 2;
    }
  });
  const hasY2 = spec.series.some(s => s.axis === 'y2');
  const width = Math.max(320, holder.clientWidth || 800);
  const opts = {
    title: spec.title, width, height: spec.height || 320,
    scales: { x: { time: false, distr: spec.xLog ? 3 : 1 }, y: { distr: spec.yLog ? 3 : 1 }, y2: { distr: 1 } },
    // Whole-number x ticks (trial numbers) when asked: the increments uPlot may pick are then integers only.
    axes: [{ label: spec.xLabel || 'step', values: ticks, ...(spec.xInteger ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] } : {}) }, { label: spec.yLabel || 'loss', scale: 'y', values: ticks, size: 60 },
      ...(hasY2 ? [{ label: spec.y2Label || 'learning rate', scale: 'y2', side: 1, grid: { show: false }, values: ticks, size: 60 }] : [])],
    series, bands, legend: { live: true },
  };
  const key = JSON.stringify([spec.series.map(s => [s.label, s.axis, !!s.band, !!s.points, !!s.stepped]), spec.xLog, spec.yLog, spec.xInteger, spec.title, opts.height]);
  if (holder.chart && holder.chartKey === key) {
    holder.chart.setData(data);
    return holder.chart;
  }
  if (holder.chart) holder.chart.destroy();
  holder.replaceChildren();
  holder.chart = new window.uPlot(opts, data, holder);
  holder.chartKey = key;
  return holder.chart;
}

/** Exponential moving average with weight alpha on the past (0: none), skipping gaps. */
export function ema(y, alpha) {
  if (!alpha) return y;
  const out = new Array(y.length);
  let m = null;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (v === null || !Number.isFinite(v)) { out[i] = v; continue; }
    m = m === null ? v : alpha * m + (1 - alpha) * v;
    out[i] = m;
  }
  return out;
}

// Parallel coordinates, which uPlot cannot draw, on ECharts (vendored at build time like uPlot). The 1 MB library is
// loaded on the first parallel chart only, so the other pages never fetch it.
let echartsLoading = null;

function loadEcharts() {
  if (window.echarts) return Promise.resolve(true);
  echartsLoading ??= new Promise(resolve => {
    const s = document.createElement('script');
    s.src = '/static/vendor/echarts.min.js';
    s.onload = () => resolve(!!window.echarts);
    s.onerror = () => resolve(false);
    document.head.append(s);
  });
  return echartsLoading;
}

/**
 * Draws parallel coordinates into holder. spec: { axes: [{ name, log, low, high, choices, objective }],
 * series: [{ label, rows: [[value per axis], ...] }] }. Log axes for log parameters, categories for choices; lines
 * colored by the last (objective) axis. The ECharts instance is holder.chart.
 */
export async function drawParallel(holder, spec) {
  if (!(await loadEcharts())) {
    holder.replaceChildren(Object.assign(document.createElement('div'), { className: 'chart-missing',
      textContent: 'Parallel coordinates are unavailable: this server was built without its chart library (npm was missing at build time). The trials table below is complete.' }));
    return null;
  }
  const values = spec.series.flatMap(s => s.rows.map(r => r[r.length - 1])).filter(v => Number.isFinite(v));
  const axis = (a, i) => {
    const base = { dim: i, name: a.name, nameLocation: 'start', nameTextStyle: { fontWeight: a.objective ? 'bold' : 'normal' } };
    if (a.choices) return { ...base, type: 'category', data: a.choices };
    if (a.log) return { ...base, type: 'log', logBase: 10, min: a.low ?? undefined, max: a.high ?? undefined };
    return { ...base, type: 'value', scale: true, min: a.low ?? undefined, max: a.high ?? undefined };
  };
  const option = {
    animation: false,
    legend: { top: 0, data: spec.series.map(s => s.label) },
    parallel: { left: 70, right: 110, top: 60, bottom: 30 },
    parallelAxis: spec.axes.map(axis),
    visualMap: values.length ? { type: 'continuous', dimension: spec.axes.length - 1, min: Math.min(...values), max: Math.max(...values), right: 10, top: 60,
      calculable: false, precision: 4, text: ['worse', 'better'], inRange: { color: ['#1a9850', '#fee08b', '#d73027'] } } : undefined,
    series: spec.series.map(s => ({ type: 'parallel', name: s.label, data: s.rows, lineStyle: { width: 1.5, opacity: 0.85 } })),
  };
  if (!holder.chart || holder.chart.isDisposed()) {
    holder.replaceChildren();
    holder.chart = window.echarts.init(holder, null, { renderer: 'canvas', width: Math.max(320, holder.clientWidth || 800), height: 360 });
  }
  holder.chart.setOption(option, { notMerge: true });
  return holder.chart;
}
