import { api, el, fmt } from '../app.js';
import { drawChart } from '../chart.js';

// A run being trained into the store, followed through server-sent events: its points as they arrive and the
// law's forecast of the rest of its schedule, refitted as the run grows.
export async function render(root, params) {
  // Running runs first, then the most recent others.
  const [running, recent] = await Promise.all([api('/api/runs?sort=-created&limit=100&status=running'), api('/api/runs?sort=-created&limit=200')]);
  const seen = new Set();
  const data = { runs: [...running.data.runs.filter(r => r.status === 'running'), ...recent.data.runs].filter(r => !seen.has(r.id) && seen.add(r.id)) };
  if (params.get('run') && !seen.has(Number(params.get('run')))) {
    try { const { data: one } = await api(`/api/runs/${Number(params.get('run'))}`); data.runs.unshift(one.run); } catch { /* not a run: the list stays */ }
  }
  const pick = el('select', { id: 'live-run' }, data.runs.map(r => el('option', { value: r.id, selected: String(r.id) === params.get('run') }, `${r.status === 'running' ? '● ' : ''}${r.name} (#${r.id})`)));
  const status = el('p', { class: 'muted', id: 'live-status' });
  const forecastText = el('p', { class: 'big', id: 'live-forecast' });
  const forecastNote = el('p', { class: 'muted', id: 'live-forecast-note' });
  const chart = el('div', { class: 'chart', id: 'live-chart' });
  root.append(el('h1', {}, 'Live'),
    el('p', { class: 'muted' }, 'Runs trained with `anneal train --store` appear here while they train (● marks runs still running).'),
    el('div', { class: 'row' }, el('label', {}, 'run ', pick)), status, forecastText, forecastNote, chart);
  let source = null;
  function follow() {
    if (source) source.close();
    const id = pick.value;
    if (!id) { status.textContent = 'No runs yet.'; return; }
    const pts = { step: [], loss: [] };
    let fc = null;
    const draw = () => drawChart(chart, { yLabel: 'loss', height: 420, series: [
      { label: 'observed', x: pts.step, y: pts.loss, color: '#1f77b4' },
      ...(fc && fc.step ? [{ label: `forecast (${fc.law})`, x: fc.step, y: fc.loss, color: '#d62728', width: 2, band: fc.final_low !== null ? { low: fc.low, high: fc.high } : null }] : [])] });
    source = new EventSource(`/api/live?run=${encodeURIComponent(id)}`);
    status.textContent = 'connecting…';
    source.addEventListener('points', e => {
      const d = JSON.parse(e.data);
      for (let i = 0; i < d.step.length; i++) { pts.step.push(d.step[i]); pts.loss.push(d.loss ? d.loss[i] : null); }
      status.textContent = `${pts.step.length} points, last step ${pts.step[pts.step.length - 1]}`;
      draw();
    });
    source.addEventListener('forecast', e => {
      fc = JSON.parse(e.data);
      forecastText.textContent = fc.error ? '' : `forecast final loss ${fmt(fc.final_loss)}` + (fc.final_low !== null ? ` [${fmt(fc.final_low)}, ${fmt(fc.final_high)}]` : '') + ` from ${fc.points} points`;
      forecastNote.textContent = fc.error ? '' : (fc.schedule_note || `schedule: ${fc.schedule}`);
      if (fc.error) status.textContent += ` (no forecast yet: ${fc.error})`;
      draw();
    });
    source.addEventListener('end', e => { status.textContent += ` — ${JSON.parse(e.data).reason}`; source.close(); });
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) return; status.textContent += ' (connection lost; retrying)'; };
  }
  pick.addEventListener('change', follow);
  follow();
  return () => { if (source) source.close(); };
}
