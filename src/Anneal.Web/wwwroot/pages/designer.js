import { api, el, fmt } from '../app.js';
import { drawChart } from '../chart.js';

// Sliders for a WSD schedule under a multi-power law: every move that changes the schedule asks the server for the
// predicted curve and final loss (one law evaluation; an auto stack's forecast, kept per schedule by the server) and
// redraws, one request at a time (the moves made meanwhile: only the last is asked); the free optimum and each family's best member are recomputed
// (seconds, cached by the server) when the horizon, warmup, peak or law change.
export async function render(root, params) {
  const { data: meta } = await api('/api/meta');
  const law = el('select', { id: 'designer-law' }, meta.design_laws.map(n => el('option', { value: n, selected: n === 'mpl-400m' }, `${n} (published)`)));
  // Saved laws the designer can use (multi-power laws and auto stacks, designed through their multi-power member).
  try {
    const { data: { artifacts } } = await api('/api/artifacts?kind=law&limit=50');
    for (const a of artifacts.filter(a => a.designable && !meta.design_laws.includes(a.name)))
      law.append(el('option', { value: `law:${a.id}` }, `law:${a.id} ${a.law}` + (a.runs.length ? ` (runs ${a.runs.map(r => r.id).join(', ')})` : '')));
  } catch { /* the published laws still work */ }
  if (params.get('law')) {
    const known = [...law.options].find(o => o.value === params.get('law'));
    if (known) known.selected = true;
    else law.append(el('option', { value: params.get('law'), selected: true }, 'fitted on the Forecast page'));
  }
  const slider = (id, min, max, step, value) => el('input', { type: 'range', id, min, max, step, value });
  const peak = slider('designer-peak', -5, -1.5, 0.005, Math.log10(3e-4));
  const horizon = slider('designer-horizon', 3, 6, 0.005, Math.log10(24000));
  const warmup = slider('designer-warmup', 0, 0.3, 0.005, 0.09);
  const cooldown = slider('designer-cooldown', 0, 1, 0.01, 0.2);
  const shape = el('select', { id: 'designer-shape' }, meta.shapes.map(s => el('option', { value: s, selected: s === 'sqrt' }, s)));
  const out = { peak: el('span'), horizon: el('span'), warmup: el('span'), cooldown: el('span') };
  const final = el('div', { class: 'big', id: 'designer-final' }, '…');
  const specOut = el('div', { class: 'spec muted', id: 'designer-spec' });
  const latency = el('div', { class: 'muted', id: 'designer-latency' });
  const bandNote = el('div', { class: 'warn', id: 'designer-band-note' });
  const chart = el('div', { class: 'chart', id: 'designer-chart' });
  const optStatus = el('p', { class: 'muted', id: 'designer-optimum-status' });
  const optTable = el('table', { id: 'designer-optimum' });
  const exportOut = el('pre', { class: 'hidden', id: 'designer-export' });
  const err = el('p', { class: 'error' });
  const ptButton = el('button', { class: 'secondary', id: 'designer-export-pytorch' }, 'Export for PyTorch');
  const hfButton = el('button', { class: 'secondary', id: 'designer-export-hf' }, 'Export for HF transformers');
  const exportLink = el('a', { class: 'hidden', id: 'designer-export-link' });
  const saveButton = el('button', { class: 'secondary', id: 'designer-save' }, 'Save this design');
  const savedOut = el('p', { class: 'muted', id: 'designer-saved' });
  root.append(el('h1', {}, 'Schedule designer'),
    el('div', { class: 'grid2' },
      el('div', { class: 'panel sliders' },
        el('label', {}, 'law', law, ''),
        el('label', {}, 'peak learning rate', peak, out.peak),
        el('label', {}, 'horizon (steps)', horizon, out.horizon),
        el('label', {}, 'warmup', warmup, out.warmup),
        el('label', {}, 'cooldown fraction', cooldown, out.cooldown),
        el('label', {}, 'cooldown shape', shape, ''),
        el('div', { class: 'row' }, ptButton, hfButton, exportLink), el('div', { class: 'row' }, saveButton), savedOut),
      el('div', { class: 'panel' }, el('div', { class: 'muted' }, 'predicted final loss'), final, bandNote, specOut, latency, err)),
    chart, exportOut, el('h2', {}, 'Free optimum and the best of each family (same horizon, warmup and peak)'), optStatus, optTable);

  const values = () => {
    // Log sliders, rounded to numbers a person would type: 2 significant digits of peak, 3 of the horizon.
    const total = Number((10 ** Number(horizon.value)).toPrecision(3));
    return { law: law.value, peak: Number((10 ** Number(peak.value)).toPrecision(2)), total, warmup: Math.round(Number(warmup.value) * total), cooldown: Number(cooldown.value), shape: shape.value };
  };
  let optimum = null, current = null, inFlight = false, pending = null;
  window.annealDesignerLatencies = [];

  // The schedule last asked for: slider positions the rounding above maps to it (a horizon or peak step too small to
  // change the rounded number) ask the server nothing.
  let askedKey = null;
  async function update(started) {
    if (inFlight) { pending = started; return; }
    const v = values();
    const key = JSON.stringify(v);
    if (key === askedKey) return;
    inFlight = true;
    askedKey = key;
    out.peak.textContent = v.peak.toExponential(2); out.horizon.textContent = v.total.toLocaleString('en');
    out.warmup.textContent = `${v.warmup} steps`; out.cooldown.textContent = `${Math.round(100 * v.cooldown)} %`;
    try {
      const t0 = performance.now();
      const { data } = await api('/api/design', v);
      const server = performance.now() - t0;
      current = data;
      err.textContent = '';
      final.textContent = fmt(data.final_loss) + (data.band ? `  [${fmt(data.band.low)}, ${fmt(data.band.high)}]` : '');
      // A law fitted before the laws' regime gives no band past its fitted horizon: say why instead.
      bandNote.textContent = data.band_withheld ? `No band: ${data.band_withheld}.` : '';
      specOut.textContent = data.spec;
      draw();
      const work = serverTime();
      requestAnimationFrame(() => {
        const ms = performance.now() - started;
        window.annealDesignerLatencies.push({ total: ms, request: server, server: work });
        latency.textContent = `updated ${ms.toFixed(0)} ms after the move (request ${server.toFixed(0)} ms, of which the server's work ${work === null ? '?' : work.toFixed(0)} ms)`;
      });
    } catch (e) { err.textContent = e.message; askedKey = null; }
    inFlight = false;
    if (pending !== null) { const p = pending; pending = null; update(p); }
  }

  // The server's own time for the last update (its Server-Timing header), read from the resource timing entries, which
  // are then cleared: the browser keeps only 250 of them.
  function serverTime() {
    const e = performance.getEntriesByType('resource').filter(x => x.name.endsWith('/api/design')).pop();
    performance.clearResourceTimings();
    const t = e && e.serverTiming ? e.serverTiming.find(x => x.name === 'design') : null;
    return t ? t.duration : null;
  }

  function draw() {
    if (!current) return;
    const series = [{ label: 'your schedule: loss', x: current.step, y: current.loss, color: '#1f77b4', width: 2 },
      { label: 'your schedule: lr', x: current.step, y: current.lr, color: '#1f77b4', axis: 'y2', dash: [4, 4], width: 1 }];
    if (optimum && optimum.total === current.step[current.step.length - 1] + 1) {
      series.push({ label: 'free optimum: loss', x: optimum.free.loss_step, y: optimum.free.loss, color: '#d62728', width: 1.5 });
      series.push({ label: 'free optimum: lr', x: optimum.free.step, y: optimum.free.lr, color: '#d62728', axis: 'y2', dash: [4, 4], width: 1 });
    }
    drawChart(chart, { yLabel: 'predicted loss', y2Label: 'learning rate', height: 380, series });
  }

  let optTimer = null, optKey = '';
  function scheduleOptimum() {
    const v = values();
    const key = JSON.stringify([v.law, v.peak, v.total, v.warmup]);
    if (key === optKey) return;
    clearTimeout(optTimer);
    optTimer = setTimeout(async () => {
      optKey = key;
      optStatus.textContent = 'computing the free optimum and the families…';
      try {
        const { data } = await api('/api/design/optimum', { law: v.law, peak: v.peak, total: v.total, warmup: v.warmup });
        if (optKey !== key) return;
        optimum = data;
        optStatus.textContent = `free optimum: predicted final loss ${fmt(data.free.final_loss)} (${data.law})`;
        const mine = current ? current.final_loss : null;
        optTable.replaceChildren(el('tr', {}, el('th', {}, 'schedule'), el('th', { class: 'num' }, 'final loss'), el('th', { class: 'num' }, 'vs yours'), el('th', {}, 'spec')),
          el('tr', {}, el('td', {}, 'free optimum'), el('td', { class: 'num' }, fmt(data.free.final_loss)), el('td', { class: 'num' }, mine === null ? '' : fmt(data.free.final_loss - mine, 5)), el('td', { class: 'spec' }, 'per-step rates (red dashed line)')),
          ...data.candidates.map(c => el('tr', {}, el('td', {}, c.label), el('td', { class: 'num' }, fmt(c.final_loss)), el('td', { class: 'num' }, mine === null ? '' : fmt(c.final_loss - mine, 5)), el('td', { class: 'spec' }, c.spec))));
        draw();
      } catch (e) { optStatus.textContent = e.message; }
    }, 400);
  }

  for (const c of [peak, horizon, warmup, cooldown, shape, law]) {
    c.addEventListener('input', () => { update(performance.now()); scheduleOptimum(); });
  }
  // One click: the server checks the export and answers what to show (the PyTorch snippet, the HF scheduler), then the
  // file itself downloads from the same service (`anneal export`'s ScheduleExport), streamed by the server.
  async function exportAs(format) {
    if (!current) return;
    exportOut.classList.remove('hidden');
    try {
      const { data } = await api('/api/export', { schedule: current.spec, steps: values().total, format });
      exportOut.textContent = format === 'hf'
        ? `# ${data.file}: Hugging Face transformers scheduler for ${data.schedule}\n${JSON.stringify(data.hf, null, 2)}`
        : `# ${data.file}: the multipliers of ${data.schedule} (${data.steps} steps), read by this snippet\n${data.snippet}`;
      exportLink.href = data.download;
      exportLink.setAttribute('download', data.file);
      exportLink.textContent = `download ${data.file} again`;
      exportLink.classList.remove('hidden');
      exportLink.click();
    } catch (e) { exportOut.textContent = e.message; exportLink.classList.add('hidden'); }
  }
  // Saves the sliders' schedule with its predicted final loss, linked to its law (a fit of this server is saved with
  // the runs it was fitted to; a published law once, without runs).
  saveButton.addEventListener('click', async () => {
    try {
      const { data } = await api('/api/designs', values());
      savedOut.className = 'muted';
      savedOut.textContent = `saved as design ${data.id} (law:${data.law_id}` + (data.artifact.runs.length ? `, runs ${data.artifact.runs.map(r => r.id).join(', ')}` : '')
        + `): ${data.artifact.spec}, predicted final loss ${fmt(data.artifact.final_loss)}`;
    } catch (e) { savedOut.className = 'error'; savedOut.textContent = e.message; }
  });
  ptButton.addEventListener('click', () => exportAs('pytorch'));
  hfButton.addEventListener('click', () => exportAs('hf'));
  await update(performance.now());
  scheduleOptimum();
  return () => clearTimeout(optTimer);
}
