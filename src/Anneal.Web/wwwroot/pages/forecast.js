import { api, el, fmt, go } from '../app.js';
import { drawChart, color } from '../chart.js';
import { probePanel } from './probe.js';

// Fit a law to chosen runs (auto by default), show each run's fit and residuals, and predict any typed schedule
// with its band over the observed runs.
export async function render(root, params) {
  const ids = el('input', { type: 'text', id: 'forecast-ids', value: params.get('ids') || '', placeholder: 'run ids, e.g. 1,2' });
  const law = el('input', { type: 'text', id: 'forecast-law', value: params.get('law') || 'auto', size: 24 });
  const spec = el('input', { type: 'text', id: 'forecast-schedule', class: 'wide', value: params.get('schedule') || '', placeholder: 'schedule to predict, e.g. wsd(peak=3e-4, total=48000, warmup=2160, decay=0.2, shape=sqrt)' });
  const steps = el('input', { type: 'number', id: 'forecast-steps', placeholder: 'horizon (if the spec has no total)', min: 2 });
  const target = el('select', { id: 'forecast-target' }, ['loss', 'val'].map(t => el('option', { value: t, selected: t === (params.get('target') || 'loss') }, t === 'loss' ? 'training loss' : 'validation loss')));
  // A longer log of a constant-rate run (a stored run's id): where it enters the laws' regime when the fit is before it.
  const constantLog = el('input', { type: 'text', id: 'forecast-constant-log', value: params.get('constant_log') || '', size: 8, placeholder: 'run id' });
  const regime = el('div', { class: 'panel hidden', id: 'forecast-regime' });
  const bandNote = el('p', { class: 'warn hidden', id: 'forecast-band-note' });
  const planLog = el('input', { type: 'text', id: 'calibration-log', value: params.get('constant_log') || '', size: 8, placeholder: 'run id' });
  const planTarget = el('select', { id: 'calibration-target' }, ['val', 'loss'].map(t => el('option', { value: t }, t === 'loss' ? 'training loss' : 'validation loss')));
  const planHorizon = el('input', { type: 'number', id: 'calibration-horizon', min: 1, placeholder: 'last step of the planned runs' });
  const planGo = el('button', { class: 'secondary', id: 'calibration-run' }, 'Check the length');
  const planOut = el('p', { class: 'muted', id: 'calibration-result' });
  // The probe's recommendation, with the constant-rate log and the loss it judges of the section above.
  const probe = probePanel(() => planLog.value.trim() ? { id: Number(planLog.value.trim()), target: planTarget.value } : null);
  const go1 = el('button', { id: 'forecast-run' }, 'Fit and predict');
  const status = el('p', { class: 'muted', id: 'forecast-status' });
  const params_ = el('div');
  const fitChart = el('div', { class: 'chart', id: 'forecast-fit-chart' });
  const resChart = el('div', { class: 'chart', id: 'forecast-residual-chart' });
  const predChart = el('div', { class: 'chart', id: 'forecast-prediction-chart' });
  const final = el('p', { class: 'big', id: 'forecast-final' });
  const toDesigner = el('button', { class: 'secondary hidden', id: 'forecast-designer' }, 'Design a schedule with this law');
  const save = el('button', { class: 'secondary hidden', id: 'forecast-save' }, 'Save this law');
  const saved = el('p', { class: 'muted', id: 'forecast-saved' });
  const savedLaws = el('table', { id: 'forecast-saved-laws' });
  root.append(el('h1', {}, 'Forecast'),
    el('div', { class: 'row' }, el('label', {}, 'runs ', ids), el('label', {}, 'law ', law), el('label', {}, 'fit ', target),
      el('label', { title: 'a longer log of a constant-rate run at the same peak: where it enters the laws\' regime, if the fitted runs end before it' }, 'constant-rate log ', constantLog), steps, go1),
    el('div', { class: 'row' }, spec),
    status, regime, final, predChart, bandNote, el('div', { class: 'grid2' }, fitChart, resChart), params_, el('div', { class: 'row' }, toDesigner, save), saved,
    el('h2', {}, 'How long must calibration runs be?'),
    el('p', { class: 'muted' }, 'From a longer log of a constant-rate run (a pilot, or an earlier run of the same model and data), where it enters the power-law regime the laws assume: calibration runs that end before it give forecasts past their horizon without a band (anneal probe --constant-log leaves such designs out).'),
    el('div', { class: 'row' }, el('label', {}, 'constant-rate log ', planLog), el('label', {}, 'judge ', planTarget), el('label', {}, 'calibration runs to step ', planHorizon), planGo),
    planOut,
    probe.panel,
    el('h2', {}, 'Saved laws'), el('p', { class: 'muted' }, 'Laws saved here or by anneal fit --store, with the runs they were fitted to. Open one to predict with it as it was fitted.'), savedLaws);
  await listSaved();
  if (!spec.value) {
    // Suggest the first chosen run's schedule stretched to twice its horizon, so one click shows a real forecast.
    const first = Number((ids.value || '').split(',')[0]);
    if (first) try {
      const { data } = await api(`/api/runs/${first}`);
      const sched = data.run.schedule;
      if (sched && /total=(\d+)/.test(sched)) spec.value = sched.replace(/total=(\d+)/, (_, t) => `total=${2 * Number(t)}`);
    } catch { /* leave it empty */ }
  }
  go1.addEventListener('click', () => run(null));
  planGo.addEventListener('click', plan);
  // The regime onset of /api/calibration: the library's sentence, the step in bold when runs must be longer.
  async function plan() {
    planOut.className = 'muted';
    planOut.textContent = 'judging…';
    const body = { constant_log: Number(planLog.value), target: planTarget.value, horizon: Number(planHorizon.value) };
    try {
      const { data: c } = await api('/api/calibration', body);
      planOut.className = c.asks_longer ? 'warn' : 'muted';
      planOut.replaceChildren(...(c.ask ? [el('strong', {}, `${cap(c.ask)}. `)] : []), c.message);
    } catch (e) { planOut.className = 'error'; planOut.textContent = e.message; }
  }
  // The saved laws with their provenance; "open" predicts with one as it was saved (no refit).
  async function listSaved() {
    let list = [];
    try { ({ data: { artifacts: list } } = await api('/api/artifacts?kind=law&limit=50')); } catch (e) { savedLaws.replaceChildren(el('tr', {}, el('td', { class: 'error' }, e.message))); return; }
    if (!list.length) { savedLaws.replaceChildren(el('tr', {}, el('td', { class: 'muted' }, 'No saved laws yet.'))); return; }
    savedLaws.replaceChildren(el('tr', {}, el('th', {}, 'law'), el('th', {}, 'name'), el('th', {}, 'fitted to runs'), el('th', {}, 'Anneal'), el('th', {}, 'saved (UTC)'), el('th', {})),
      ...list.map(a => el('tr', {}, el('td', {}, `law:${a.id}`), el('td', {}, a.name),
        el('td', {}, a.runs.length ? a.runs.map(r => `${r.id} ${r.name}${r.exists ? '' : ' (deleted)'}`).join(', ') : 'none (built-in or file)'),
        el('td', { class: 'muted' }, a.anneal_version.split('+')[0]), el('td', { class: 'muted' }, a.created.replace('T', ' ').slice(0, 16)),
        el('td', {}, (() => { const b = el('button', { class: 'secondary', 'data-law': a.id }, 'open'); b.addEventListener('click', () => run(a.id)); return b; })()))));
  }
  async function run(lawId) {
    const runIds = ids.value.split(',').map(s => Number(s.trim())).filter(n => n > 0);
    if (!runIds.length && !lawId) { status.textContent = 'Give the ids of the runs to fit (tick them on the Runs page).'; return; }
    status.className = 'muted';
    status.textContent = lawId ? `opening law:${lawId}…` : 'fitting… (a few seconds for the auto law)';
    saved.textContent = '';
    go1.disabled = true;
    const body = lawId ? { law_id: lawId, schedule: spec.value || null } : { runs: runIds, law: law.value || 'auto', schedule: spec.value || null };
    body.target = target.value;
    if (constantLog.value.trim()) body.constant_log = Number(constantLog.value.trim());
    if (steps.value) body.steps = Number(steps.value);
    let d;
    try { ({ data: d } = await api('/api/forecast', body)); }
    catch (e) { status.className = 'error'; status.textContent = e.message; go1.disabled = false; return; }
    go1.disabled = false;
    // The regime check's sentences are in their own panel (showRegime), not repeated in the status line.
    const shown = d.regime && d.regime.fires ? [d.regime.message, d.regime.onset && d.regime.onset.message] : [];
    const warnings = d.report.warnings.filter(w => !shown.includes(w));
    status.textContent = (d.saved_law ? `law:${d.saved_law.id} (saved ${d.saved_law.created.slice(0, 10)} by Anneal ${d.saved_law.anneal_version.split('+')[0]}): ` : '')
      + `${d.law} fitted to ${d.runs.length} run(s), ${d.report.points} points in ${d.report.seconds.toFixed(2)} s; rms log residual ${fmt(d.report.rms_log_residual, 5)}`
      + (warnings.length ? ' — ' + warnings.join('; ') : '')
      + (d.notes && d.notes.length ? ' — ' + d.notes.join('; ') : ''); // what the fit window left out or averaged, as `anneal fit` notes it
    if (d.saved_law) ids.value = d.saved_law.runs.filter(r => r.exists).map(r => r.id).join(',');
    showRegime(d.regime);
    drawChart(fitChart, { title: 'Fitted runs', yLabel: 'loss', height: 300, series: d.runs.flatMap((r, i) => [
      { label: r.name, x: r.step, y: r.observed, color: color(i), points: true },
      { label: `${r.name} fit`, x: r.step, y: r.predicted, color: color(i), width: 2 }]) });
    drawChart(resChart, { title: 'Residuals (observed − fitted)', yLabel: 'residual', height: 300, series: d.runs.map((r, i) => ({ label: `${r.name} residual (R² ${fmt(r.r2)})`, x: r.step, y: r.residual, color: color(i) })) });
    if (d.prediction) {
      const p = d.prediction;
      final.textContent = `predicted final loss ${fmt(p.final_loss)}` + (p.final_low !== null ? `  (${Math.round(100 * p.level)}% band ${fmt(p.final_low)} – ${fmt(p.final_high)})`
        : p.band_withheld_by_regime ? '  (no band past the fitted horizon: see under the chart)' : `  (no band: ${p.band_unavailable})`);
      drawChart(predChart, { title: `Forecast: ${p.schedule}`, yLabel: 'loss', y2Label: 'learning rate', height: 380, series: [
        { label: p.final_low !== null ? 'predicted' : 'predicted (no band)', x: p.step, y: p.loss, color: '#000000', width: 2, band: p.final_low !== null ? { low: p.low, high: p.high } : null },
        ...d.runs.map((r, i) => ({ label: `${r.name} observed`, x: r.step, y: r.observed, color: color(i), points: true })),
        { label: 'learning rate', x: p.step, y: p.lr, color: '#999999', axis: 'y2', dash: [4, 4], width: 1 }] });
      // No band drawn where the regime check withholds it: the chart says so under it, with the check's reason.
      bandNote.classList.toggle('hidden', !p.band_withheld_by_regime);
      bandNote.textContent = p.band_withheld_by_regime ? `No band drawn: ${p.band_unavailable}.` : '';
    } else { final.textContent = 'Type a schedule spec to see its predicted curve.'; predChart.replaceChildren(); bandNote.classList.add('hidden'); }
    // One table per fit: the law's, or each seed group's of a seed ensemble (its forecasts are the groups' mean).
    const paramTable = g => [el('table', {},
      el('tr', {}, el('th', {}, 'parameter'), el('th', { class: 'num' }, 'value'), el('th', { class: 'num' }, 'std error'), el('th', {}, 'unit')),
      g.parameters.map(p => el('tr', {}, el('td', {}, p.name), el('td', { class: 'num' }, fmt(p.value, 5)), el('td', { class: 'num' }, fmt(p.std_error, 5)), el('td', { class: 'muted' }, p.unit)))),
      ...(g.members ? [el('p', { class: 'muted' }, 'auto = ' + g.members.map(m => `${m.weight} × ${m.law}`).join(' + '))] : [])];
    params_.replaceChildren(el('h2', {}, 'Fitted parameters'), ...(d.seed_groups
      ? [el('p', { class: 'muted' }, `Seed ensemble of ${d.seed_groups.length} groups, each one seed's runs fitted apart; every forecast is their geometric mean, with their spread in its band.`),
         ...d.seed_groups.flatMap((g, i) => [el('h3', {}, `Seed group ${i + 1}: ${g.runs.join(', ')} (${g.points} points)`), ...paramTable(g)])]
      : paramTable(d)));
    toDesigner.classList.toggle('hidden', !d.designable);
    toDesigner.onclick = () => go('designer', { law: d.fit_id });
    save.classList.toggle('hidden', !!d.saved_law);
    save.onclick = async () => {
      try {
        const { data: s } = await api('/api/laws', { fit_id: d.fit_id });
        saved.className = 'muted';
        saved.textContent = `${s.saved ? 'saved as' : 'already saved as'} law:${s.id} (${s.artifact.law}, fitted to runs ${s.artifact.runs.map(r => r.id).join(', ')}, Anneal ${s.artifact.anneal_version.split('+')[0]}); predict with it: anneal predict law:${s.id} --store …`;
        await listSaved();
      } catch (e) { saved.className = 'error'; saved.textContent = e.message; }
    };
  }
  const cap = t => t.charAt(0).toUpperCase() + t.slice(1);
  // The fit's regime verdict (RegimeCheck) and, with a constant-rate log, how long calibration runs must be (RegimeOnset):
  // the library's sentences, the step in bold.
  function showRegime(g) {
    regime.classList.toggle('hidden', !g || !g.checked);
    if (!g || !g.checked) return;
    regime.className = g.fires ? 'panel warn' : 'panel muted';
    const o = g.onset;
    regime.replaceChildren(
      el('strong', {}, g.fires ? (o && o.ask ? `${cap(o.ask)}.` : 'The fitted runs end before the laws\' regime.') : 'The fitted runs end in the laws\' regime.'),
      el('p', {}, g.message),
      o ? el('p', {}, o.message) : g.fires ? el('p', {}, 'Give a longer log of the constant-rate run (constant-rate log) to learn how long calibration runs must be.') : null);
    if (g.fires) { if (g.constant_log) planLog.value = g.constant_log; if (!planHorizon.value) planHorizon.value = g.horizon; planTarget.value = target.value; }
  }
  if (params.get('law_id')) await run(Number(params.get('law_id')));
  else if (ids.value && params.get('run') !== '0') await run(null);
  return probe.cleanup;
}
