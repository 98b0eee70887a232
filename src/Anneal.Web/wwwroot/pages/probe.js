import { api, el, pct } from '../app.js';

// "Which calibration runs?": the recommendation of anneal probe (POST /api/probe, the library's ProbePlanner and its
// anneal-probe/1 document). The page only renders: the table of the recommended design's runs, the library's reasons
// and notes, and the regime stage's sentence when a constant-rate log is given. The plan runs in the background on the
// server; the page polls it and shows the planner's own progress messages until the document is ready.
// log(): the constant-rate log chosen in the section above ({ id, target } or null), shared with /api/calibration.
export function probePanel(log) {
  const budget = el('input', { type: 'number', id: 'probe-budget', min: 1, placeholder: 'steps, e.g. 2000' });
  const targets = el('textarea', { id: 'probe-targets', class: 'wide', rows: 3,
    placeholder: 'one target schedule per line, e.g.\ncosine(peak=3e-3, total=2000, warmup=100)\nwsd(peak=3e-3, total=2000, warmup=100, decay=0.2)\nconstant(peak=3e-3, warmup=100)@3000' });
  const law = el('input', { type: 'text', id: 'probe-law', value: 'auto', size: 16 });
  const seeds = el('input', { type: 'number', id: 'probe-seeds', value: 3, min: 1, max: 50, style: 'width: 5em' });
  const margin = el('input', { type: 'number', id: 'probe-margin', value: 2, min: 1, max: 100, step: 0.5, style: 'width: 5em' });
  const goBtn = el('button', { id: 'probe-run' }, 'Design the calibration runs');
  // Stops the planner on the server (DELETE /api/probe/JOB), not only this page's polling.
  const cancelBtn = el('button', { id: 'probe-cancel', class: 'hidden' }, 'Cancel');
  const bar = el('progress', { id: 'probe-progress', class: 'hidden', style: 'width: 260px' });
  const status = el('p', { class: 'muted', id: 'probe-status' });
  const out = el('div', { id: 'probe-result' });
  let alive = true;
  let job = null;        // the job being polled, while it runs
  let cancelled = false;
  let current = 0;       // the latest run's number: a run the user started again over must not touch the page
  goBtn.addEventListener('click', run);
  cancelBtn.addEventListener('click', cancel);
  const panel = el('div', { id: 'probe-panel' },
    el('h2', {}, 'Which calibration runs should I train?'),
    el('p', { class: 'muted' }, 'For the schedules you intend to train (the targets), the cheapest calibration runs that pin the law down, within a budget of steps (anneal probe, docs/probe.md). Every candidate design is simulated: prior laws generate its runs with measured noise, your law is fitted on them and forecasts the targets. A cooldown branched from a checkpoint of the constant run costs only its own steps. With a constant-rate log above, designs whose runs end before the laws\' regime are left out. Takes tens of seconds.'),
    el('div', { class: 'row' }, el('label', {}, 'budget ', budget), el('label', {}, 'law ', law),
      el('label', { title: 'noise seeds per prior for the finalists' }, 'seeds ', seeds),
      el('label', { title: 'another design than constant + cosine must simulate at most 1/margin of its error under every prior' }, 'margin ', margin)),
    el('div', { class: 'row' }, targets),
    el('div', { class: 'row' }, goBtn, cancelBtn, bar, status),
    out);

  async function run() {
    const list = targets.value.split('\n').map(s => s.trim()).filter(s => s);
    const body = { budget: Number(budget.value), targets: list, law: law.value || 'auto', seeds: Number(seeds.value), margin: Number(margin.value) };
    const l = log();
    if (l) { body.constant_log = l.id; body.constant_log_target = l.target; }
    const me = ++current;
    goBtn.disabled = true;
    cancelled = false;
    out.replaceChildren();
    status.className = 'muted';
    status.textContent = 'checking the request…';
    bar.removeAttribute('value');
    bar.classList.remove('hidden');
    try {
      let { status: code, data } = await api('/api/probe', body);
      job = data.job;
      cancelBtn.classList.remove('hidden');
      const started = Date.now();
      while (code === 202 && alive && !cancelled && me === current) {
        showProgress(data.progress, (Date.now() - started) / 1000);
        await new Promise(r => setTimeout(r, 700));
        if (cancelled || me !== current) break;
        ({ status: code, data } = await api(data.poll || `/api/probe/${data.job}`));
      }
      if (me === current) job = null;
      if (!alive || cancelled || me !== current) return;
      status.textContent = `done in ${data.settings.seconds.toFixed(1)} s (${data.settings.simulations} simulated fits)`;
      render(data);
    } catch (e) {
      if (cancelled || me !== current) return; // a poll that raced the cancel: the cancel's answer is what to show
      status.className = 'error'; status.textContent = e.message;
    }
    finally { if (me === current) idle(); }
  }

  // The panel between runs: nothing to cancel, a new run may start.
  function idle() { job = null; goBtn.disabled = false; cancelBtn.classList.add('hidden'); bar.classList.add('hidden'); }

  // Cancels the running job on the server; the answer comes once its planner stopped.
  async function cancel() {
    if (!job) return;
    const id = job;
    cancelled = true;
    cancelBtn.disabled = true;
    status.className = 'muted';
    status.textContent = 'cancelling…';
    try {
      const { data } = await api(`/api/probe/${id}`, undefined, undefined, 'DELETE');
      status.textContent = data.status === 'cancelling' ? 'cancelled; the server is still ending the simulated fits in flight'
        : data.status === 'dropped' ? 'cancelled: the design had just finished; run it again to see it'
        : `cancelled: the planner stopped after ${data.seconds.toFixed(1)} s`;
    } catch (e) { status.className = 'error'; status.textContent = e.message; }
    // The run's loop may still sleep between polls: the panel is idle now, not when it wakes (it then leaves the page alone).
    finally { cancelBtn.disabled = false; if (id === job) idle(); }
  }

  // The planner's message ("screening: 12/66 simulated fits (3.1 s)"); its counts fill the bar.
  function showProgress(message, seconds) {
    const m = /(\d+)\/(\d+) simulated fits/.exec(message || '');
    if (m) { bar.max = Number(m[2]); bar.value = Number(m[1]); } else bar.removeAttribute('value');
    status.textContent = `${message || 'queued'} — ${seconds.toFixed(0)} s`;
  }

  function render(p) {
    const rec = p.recommended;
    const isBaseline = p.baseline && p.baseline.name === rec.name;
    const parts = [];
    // The regime stage: its ask in bold, then the library's note on it (its sentence and what it left out), shown once.
    const regimeNote = p.regime ? p.notes.find(n => n.startsWith(p.regime.message)) : undefined;
    const notes = p.notes.filter(n => n !== regimeNote);
    if (p.regime) parts.push(el('div', { class: p.regime.asks_longer ? 'panel warn' : 'panel muted', id: 'probe-regime' },
      p.regime.ask ? el('strong', {}, `${p.regime.ask.charAt(0).toUpperCase()}${p.regime.ask.slice(1)}. `) : null, regimeNote || p.regime.message));
    parts.push(el('p', { class: 'big', id: 'probe-recommended' }, `Recommended: ${rec.name}, ${rec.cost.toLocaleString('en-US')} steps`),
      el('p', { class: 'muted' }, `simulated error ${pct(rec.rms_error)} (per prior ${rec.prior_rms_errors.map(pct).join(' / ')})`
        + (isBaseline ? ' — the baseline, constant + cosine' : p.baseline ? ` against constant + cosine's ${pct(p.baseline.rms_error)}` : '')));
    parts.push(el('table', { id: 'probe-table' },
      el('tr', {}, el('th', {}, 'run'), el('th', {}, 'schedule'), el('th', { class: 'num' }, 'steps'), el('th', { class: 'num' }, 'compute (steps trained)'), el('th', {}, 'why')),
      rec.runs.map(r => el('tr', {}, el('td', {}, r.name), el('td', { class: 'spec' }, r.schedule), el('td', { class: 'num' }, r.horizon.toLocaleString('en-US')),
        el('td', { class: 'num' }, r.cost.toLocaleString('en-US')),
        el('td', { class: 'spec' }, r.branch_step > 0 ? `cooldown from the constant run's checkpoint at step ${r.branch_step.toLocaleString('en-US')}: only its own steps are trained` : 'trained from scratch'))),
      el('tr', {}, el('th', {}, 'total'), el('td', {}), el('td', {}), el('th', { class: 'num' }, rec.cost.toLocaleString('en-US')), el('td', { class: 'muted' }, `of a budget of ${p.budget.toLocaleString('en-US')}`))));
    parts.push(el('h3', {}, 'Why'), el('ul', { id: 'probe-reasons' }, p.reasons.map(r => el('li', {}, r))));
    if (notes.length) parts.push(el('ul', { id: 'probe-notes', class: 'warn' }, notes.map(n => el('li', {}, `note: ${n}`))));
    // The finalists (simulated with every seed), as the CLI's table lists them first.
    const finalists = p.designs.filter(d => d.finalist);
    parts.push(el('h3', {}, `Finalists (simulated with ${p.settings.seeds} noise seed${p.settings.seeds === 1 ? '' : 's'}; ${p.designs.length} designs screened)`),
      el('table', { id: 'probe-designs' },
        el('tr', {}, el('th', {}, 'design'), el('th', { class: 'num' }, 'compute'), el('th', {}, 'brackets the targets'), el('th', { class: 'num' }, 'decaying runs'), el('th', { class: 'num' }, 'simulated error'), el('th', { class: 'num' }, 'per prior')),
        finalists.map(d => el('tr', {}, el('td', {}, d.name + (d.name === rec.name ? ' (recommended)' : p.baseline && d.name === p.baseline.name ? ' (baseline)' : '')),
          el('td', { class: 'num' }, d.cost.toLocaleString('en-US')), el('td', {}, d.covers_targets ? 'yes' : `not ${d.uncovered_targets.join(', ')}`),
          el('td', { class: 'num' }, d.decay_runs), el('td', { class: 'num' }, pct(d.rms_error)), el('td', { class: 'num' }, d.prior_rms_errors.map(pct).join(' / '))))));
    out.replaceChildren(...parts);
  }

  // Leaving the page cancels a running job: nobody will read its result.
  return { panel, cleanup: () => { alive = false; if (job) api(`/api/probe/${job}`, undefined, undefined, 'DELETE').catch(() => {}); } };
}
