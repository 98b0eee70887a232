import { api, el, fmt, pct } from '../app.js';

// The forecasting benchmark of `anneal accuracy` over the bundled corpora: computed once by the server in the
// background (minutes), then served from its cache.
export async function render(root) {
  const status = el('p', { class: 'muted', id: 'accuracy-status' }, 'loading…');
  const pooled = el('table', { id: 'accuracy-pooled' });
  const rows = el('table', { id: 'accuracy-rows' });
  root.append(el('h1', {}, 'Forecast accuracy'),
    el('p', { class: 'muted' }, 'Each law is fitted on some runs of a corpus and forecasts the final loss of the others (the protocol of docs/accuracy.md).'),
    status, el('h2', {}, 'Pooled over the corpora'), pooled, el('h2', {}, 'Per corpus and question'), rows);
  let timer = null, alive = true;
  async function poll() {
    let r;
    try { r = await api('/api/accuracy'); } catch (e) { status.className = 'error'; status.textContent = e.message; return; }
    if (!alive) return;
    if (r.status === 202) {
      status.textContent = `computing the benchmark (once per server start)… ${r.data.progress || ''}`;
      timer = setTimeout(poll, 2000);
      return;
    }
    const d = r.data;
    status.textContent = `${d.pooled.length} laws; band level ${Math.round(100 * d.level)} %` + (d.skipped.length ? `; skipped: ${d.skipped.join('; ')}` : '');
    pooled.replaceChildren(el('tr', {}, ['law', 'forecasts', 'mean error', 'worst error', 'Spearman', 'regret', 'band covers', 'median half-width', 'fit time'].map((h, i) => el('th', { class: i ? 'num' : null }, h))),
      ...d.pooled.map(p => el('tr', {}, el('td', {}, p.law), el('td', { class: 'num' }, p.forecasts + (p.failures ? ` (${p.failures} failed)` : '')),
        el('td', { class: 'num' }, pct(p.mean_error)), el('td', { class: 'num' }, pct(p.worst_error)), el('td', { class: 'num' }, fmt(p.spearman, 3)),
        el('td', { class: 'num' }, pct(p.regret)), el('td', { class: 'num' }, `${p.covered}/${p.with_band}`), el('td', { class: 'num' }, pct(p.median_half_width)),
        el('td', { class: 'num' }, `${p.fit_seconds.toFixed(1)} s`))));
    rows.replaceChildren(el('tr', {}, ['corpus', 'question', 'law', 'forecasts', 'mean error', 'worst error', 'Spearman', 'band covers'].map((h, i) => el('th', { class: i > 2 ? 'num' : null }, h))),
      ...d.rows.map(x => el('tr', {}, el('td', {}, x.corpus), el('td', {}, x.question), el('td', {}, x.law),
        x.error ? el('td', { class: 'error', colspan: 5 }, x.error) : [el('td', { class: 'num' }, x.forecasts), el('td', { class: 'num' }, pct(x.mean_error)),
          el('td', { class: 'num' }, pct(x.worst_error)), el('td', { class: 'num' }, fmt(x.spearman, 3)), el('td', { class: 'num' }, `${x.covered}/${x.with_band}`)])));
  }
  await poll();
  return () => { alive = false; clearTimeout(timer); };
}
