import { api, el, fmt, go } from '../app.js';
import { drawChart, drawParallel } from '../chart.js';

// Studies of `anneal sweep run` in the store. A study's page: the optimization history (each complete trial's value
// and the best so far), parallel coordinates (log axes for log-uniform parameters), the intermediate values of every
// trial including running ones, and the trials table. It polls the server while trials run (every 2 s), and slowly
// otherwise (a study can be resumed or extended at any time).
const stateColor = { running: '#1f77b4', waiting: '#9467bd', complete: '#7f7f7f', pruned: '#ff7f0e', failed: '#d62728' };
const FAST_MS = 2000, SLOW_MS = 10000;

export async function render(root, params) {
  const id = Number(params.get('study'));
  return id > 0 ? study(root, id) : list(root);
}

async function list(root) {
  const { data } = await api('/api/studies');
  root.append(el('h1', {}, 'Sweeps'));
  if (data.studies.length === 0) {
    root.append(el('p', { class: 'muted', id: 'sweeps-empty' }, 'No studies in this store yet. Run one with `anneal sweep run STUDY.yaml --store <this store>` (see docs/tuning.md); it appears here while it runs.'));
    return;
  }
  const head = el('tr', {}, ['study', 'trials', 'running', 'complete', 'pruned', 'failed', 'best value', 'best trial', 'sampler', 'pruner', 'created']
    .map((h, i) => el('th', { class: i > 0 && i < 8 ? 'num' : null }, h)));
  const rows = data.studies.map(s => el('tr', { 'data-id': s.id },
    el('td', {}, el('a', { href: `#/sweeps?study=${s.id}` }, s.name)), el('td', { class: 'num' }, s.trials),
    el('td', { class: 'num' }, s.counts.running + s.counts.waiting), el('td', { class: 'num' }, s.counts.complete),
    el('td', { class: 'num' }, s.counts.pruned), el('td', { class: 'num' }, s.counts.failed),
    el('td', { class: 'num' }, s.best ? fmt(s.best.value) : '–'), el('td', { class: 'num' }, s.best ? `#${s.best.number}` : '–'),
    el('td', {}, s.sampler || '?'), el('td', {}, s.pruner || '?'), el('td', { class: 'muted' }, s.created.slice(0, 19).replace('T', ' '))));
  root.append(el('table', { id: 'sweeps-table' }, el('thead', {}, head), el('tbody', {}, rows)));
}

async function study(root, id) {
  const title = el('h1', {}, 'Sweep');
  const summary = el('p', { id: 'sweep-summary' });
  const refresh = el('p', { class: 'muted', id: 'sweep-refresh' });
  const err = el('p', { class: 'error' });
  const history = el('div', { class: 'chart', id: 'sweep-history' });
  const parallel = el('div', { class: 'chart parallel', id: 'sweep-parallel' });
  const intermediate = el('div', { class: 'chart', id: 'sweep-intermediate' });
  const table = el('table', { id: 'sweep-trials' });
  root.append(el('p', {}, el('a', { href: '#/sweeps' }, '‹ all sweeps')), title, summary, refresh, err,
    el('h2', {}, 'Optimization history'), history,
    el('h2', {}, 'Parallel coordinates (complete trials; log axes for log-uniform parameters)'), parallel,
    el('h2', {}, 'Intermediate values (every trial, running ones included)'), intermediate,
    el('h2', {}, 'Trials'), table);

  let last = '', timer = null, stopped = false, ctrl = null;
  async function poll() {
    ctrl = new AbortController();
    let data = null, text = '';
    try {
      const r = await fetch(`/api/studies/${id}`, { credentials: 'same-origin', signal: ctrl.signal });
      text = await r.text();
      data = JSON.parse(text);
      if (!r.ok) throw new Error(data.error || `${r.status}`);
      err.textContent = '';
    } catch (e) {
      if (e.name === 'AbortError') return;
      err.textContent = e.message;
    }
    const active = data && data.counts ? data.counts.running + data.counts.waiting > 0 : false;
    if (data && data.counts && text !== last) { last = text; await show(data); }
    if (data && data.counts) refresh.textContent = `updated ${new Date().toLocaleTimeString('en-GB')}; ` + (active ? `refreshing every ${FAST_MS / 1000} s while trials run` : `no trial is running; checking every ${SLOW_MS / 1000} s`);
    if (!stopped) timer = setTimeout(poll, active ? FAST_MS : SLOW_MS);
  }

  async function show(s) {
    title.textContent = `Sweep ${s.name}`;
    const c = s.counts;
    summary.textContent = `${s.trials.length} trials: ${c.running} running, ${c.waiting} waiting, ${c.complete} complete, ${c.pruned} pruned, ${c.failed} failed` +
      (s.best ? `; best ${fmt(s.best.value)} (trial #${s.best.number}: ${Object.entries(s.best.params).map(([k, v]) => `${k}=${param(v)}`).join(', ')})` : '; no complete trial yet') +
      ` · sampler ${s.sampler || '?'}, pruner ${s.pruner || '?'}, ${s.direction} ${s.metric || 'value'}` + (s.spec_error ? ` (stored study file unreadable here: ${s.spec_error})` : '');
    const metric = s.metric || 'objective value';
    drawChart(history, { xLabel: 'trial', yLabel: metric, height: 300, xInteger: true, series: [
      { label: 'complete trials', x: s.history.number, y: s.history.value, color: '#1f77b4', points: true, pointSize: 7 },
      { label: 'best so far', x: s.history.number, y: s.history.best, color: '#d62728', width: 2, stepped: true }] });

    const done = s.trials.filter(t => t.state === 'complete' && t.value !== null);
    const axes = s.space.map(p => ({ name: p.name, log: p.log, low: p.low, high: p.high, choices: p.choices }));
    axes.push({ name: metric, objective: true });
    await drawParallel(parallel, { axes, series: [{ label: 'complete trials', rows: done.map(t => [...s.space.map(p => t.params[p.name]), t.value]) }] });

    const withValues = s.trials.filter(t => t.intermediate.step.length > 0);
    drawChart(intermediate, { xLabel: 'step', yLabel: `${metric} (intermediate)`, height: 360, series: withValues.map(t => ({
      label: `trial ${t.number} (${t.state})`, x: t.intermediate.step, y: t.intermediate.value, color: stateColor[t.state] || '#7f7f7f',
      width: t.state === 'running' ? 2.5 : 1.2, dash: t.state === 'pruned' || t.state === 'failed' ? [4, 3] : undefined })) });

    const names = s.space.map(p => p.name);
    table.replaceChildren(
      el('thead', {}, el('tr', {}, el('th', { class: 'num' }, '#'), el('th', {}, 'state'), el('th', { class: 'num' }, 'value'), el('th', { class: 'num' }, 'steps'),
        names.map(n => el('th', { class: 'num' }, n)), el('th', {}, 'run'), el('th', {}, 'note'))),
      el('tbody', {}, s.trials.map(t => el('tr', { 'data-number': t.number, 'data-state': t.state },
        el('td', { class: 'num' }, t.number), el('td', {}, el('span', { class: `state ${t.state}` }, t.state)),
        el('td', { class: 'num' }, fmt(t.value)), el('td', { class: 'num' }, t.steps),
        names.map(n => el('td', { class: 'num' }, param(t.params[n]))),
        el('td', {}, t.run_id ? el('a', { href: '#', onclick: ev => { ev.preventDefault(); go(t.state === 'running' ? 'live' : 'compare', t.state === 'running' ? { run: t.run_id } : { ids: t.run_id }); } }, `run ${t.run_id}`) : ''),
        el('td', { class: 'muted' }, t.message || '')))));
  }

  await poll();
  return () => { stopped = true; clearTimeout(timer); if (ctrl) ctrl.abort(); };
}

/** A parameter's value as a person reads it: whole numbers as they are, reals to 4 significant digits, words as written. */
function param(v) {
  if (v === null || v === undefined) return '–';
  if (typeof v !== 'number') return String(v);
  return Number.isInteger(v) ? String(v) : String(+v.toPrecision(4));
}
