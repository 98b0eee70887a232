import { api, el } from '../app.js';
import { drawChart, ema, color } from '../chart.js';

// Overlaid runs: loss (EMA-smoothed on demand) on log or linear axes, the learning rate on a second axis,
// step or tokens on x. Curves come downsampled (min/max per pixel) from the server.
export async function render(root, params) {
  const ids = (params.get('ids') || '').split(',').map(Number).filter(n => n > 0);
  const idsInput = el('input', { type: 'text', value: ids.join(','), placeholder: 'run ids, e.g. 1,2,3', id: 'compare-ids' });
  const logX = el('input', { type: 'checkbox', id: 'compare-logx' });
  const logY = el('input', { type: 'checkbox', id: 'compare-logy', checked: true });
  const showLr = el('input', { type: 'checkbox', id: 'compare-lr', checked: true });
  const smooth = el('input', { type: 'range', min: 0, max: 0.99, step: 0.01, value: 0, id: 'compare-ema' });
  const smoothVal = el('span', { class: 'muted' }, '0');
  const xAxis = el('select', { id: 'compare-x' }, el('option', { value: 'step' }, 'step'), el('option', { value: 'tokens' }, 'tokens'));
  const chart = el('div', { class: 'chart', id: 'compare-chart' });
  const msg = el('p', { class: 'muted' });
  root.append(el('h1', {}, 'Compare runs'),
    el('div', { class: 'row' }, el('label', {}, 'runs ', idsInput), el('button', { onclick: () => { location.hash = `#/compare?ids=${idsInput.value.replace(/\s/g, '')}`; } }, 'Show')),
    el('div', { class: 'row' }, el('label', {}, logX, ' log x'), el('label', {}, logY, ' log loss'), el('label', {}, showLr, ' learning rate (right axis)'),
      el('label', {}, 'x ', xAxis), el('label', {}, 'EMA smoothing ', smooth, ' ', smoothVal)),
    msg, chart);
  if (ids.length === 0) { msg.textContent = 'Pick runs on the Runs page (tick them, then "Compare selected"), or type their ids.'; return; }
  const width = Math.max(400, (chart.clientWidth || 1000));
  const runs = await Promise.all(ids.map(async id => {
    const [loss, lr, tokens] = await Promise.all(['loss', 'lr', 'tokens'].map(m =>
      api(`/api/runs/${id}/curve?metric=${m}&max_points=${2 * width}`).then(r => r.data)));
    loss.tokens = tokens.step.length ? loss.step.map(s => interpolate(tokens.step, tokens.value, s)) : null;
    return { id, loss, lr };
  }));
  function draw() {
    smoothVal.textContent = Number(smooth.value).toFixed(2);
    const useTokens = xAxis.value === 'tokens';
    const series = [];
    const missing = [];
    runs.forEach((r, i) => {
      const x = useTokens ? r.loss.tokens : r.loss.step;
      if (!x) { missing.push(r.loss.name); return; }
      const ok = x.map((v, j) => v !== null && (!logX.checked || v > 0) ? j : -1).filter(j => j >= 0);
      series.push({ label: r.loss.name, x: ok.map(j => x[j]), y: ema(ok.map(j => r.loss.value[j]), Number(smooth.value)), color: color(i) });
      if (showLr.checked && r.lr.step.length > 0 && !useTokens) {
        const okl = r.lr.step.map((v, j) => (!logX.checked || v > 0) ? j : -1).filter(j => j >= 0);
        series.push({ label: `${r.loss.name} lr`, x: okl.map(j => r.lr.step[j]), y: okl.map(j => r.lr.value[j]), color: color(i), axis: 'y2', dash: [4, 4], width: 1 });
      }
    });
    msg.textContent = missing.length ? `No tokens column in: ${missing.join(', ')}` : `${runs.length} run(s); curves downsampled to the chart's width (min and max kept per pixel).`;
    drawChart(chart, { xLabel: useTokens ? 'tokens' : 'step', yLabel: 'training loss', y2Label: 'learning rate', xLog: logX.checked, yLog: logY.checked, height: 460, series });
  }
  for (const c of [logX, logY, showLr, smooth, xAxis]) c.addEventListener('input', draw);
  draw();
}

/** Linear interpolation of (xs, ys) at x, clamped to the ends; xs increasing. */
function interpolate(xs, ys, x) {
  let lo = 0, hi = xs.length - 1;
  if (x <= xs[0]) return ys[0];
  if (x >= xs[hi]) return ys[hi];
  while (hi - lo > 1) { const m = (lo + hi) >> 1; if (xs[m] <= x) lo = m; else hi = m; }
  return ys[lo] + (ys[hi] - ys[lo]) * (x - xs[lo]) / (xs[hi] - xs[lo]);
}
