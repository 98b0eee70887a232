import { api, el, fmt, go } from '../app.js';

// The runs table: the server filters, sorts and pages (50 rows at a time), so 10k runs cost one page.
const columns = [
  ['name', 'name'], ['tags', null], ['schedule', null], ['status', 'status'], ['steps', 'steps', 'num'],
  ['final loss', 'final_loss', 'num'], ['best val loss', 'best_val_loss', 'num'], ['created', 'created'],
];

export async function render(root, params) {
  const state = { q: params.get('q') || '', tag: params.get('tag') || '', sort: params.get('sort') || '-created', offset: 0, limit: 50 };
  const selected = new Set();
  const filter = el('input', { type: 'text', placeholder: 'filter by name, tag or schedule…', value: state.q, id: 'runs-filter', size: 40 });
  const count = el('span', { class: 'muted', id: 'runs-count' });
  const tagFilter = el('span', { id: 'runs-tag' });
  const compare = el('button', { id: 'runs-compare', disabled: true, onclick: () => go('compare', { ids: [...selected].join(',') }) }, 'Compare selected');
  const forecast = el('button', { class: 'secondary', id: 'runs-forecast', disabled: true, onclick: () => go('forecast', { ids: [...selected].join(',') }) }, 'Forecast from selected');
  const table = el('table', { id: 'runs-table' });
  const prev = el('button', { class: 'secondary', onclick: () => { state.offset = Math.max(0, state.offset - state.limit); load(); } }, '‹ previous');
  const next = el('button', { class: 'secondary', onclick: () => { state.offset += state.limit; load(); } }, 'next ›');
  const pageInfo = el('span', { class: 'muted' });
  const err = el('p', { class: 'error' });

  const file = el('input', { type: 'file', id: 'upload-file' });
  const upName = el('input', { type: 'text', placeholder: 'name (optional)', id: 'upload-name' });
  const upSpec = el('input', { type: 'text', placeholder: 'exact schedule spec (optional), e.g. cosine(peak=3e-4, total=24000, warmup=2160)', size: 60, id: 'upload-schedule' });
  const upMsg = el('span', { class: 'muted' });
  const upload = el('button', { class: 'secondary', onclick: async () => {
    const f = file.files[0];
    if (!f) { upMsg.textContent = 'choose a file first'; return; }
    const q = new URLSearchParams({ file: f.name, name: upName.value, schedule: upSpec.value, tags: 'upload' });
    try {
      const { data } = await api(`/api/runs?${q}`, f);
      upMsg.textContent = `added run ${data.id} (${data.run.points} points)` + (data.warnings.length ? '; ' + data.warnings.join('; ') : '');
      load();
    } catch (e) { upMsg.textContent = e.message; }
  } }, 'Upload run');

  root.append(el('h1', {}, 'Runs'),
    el('div', { class: 'row' }, filter, tagFilter, count, compare, forecast),
    err, table, el('div', { class: 'row' }, prev, pageInfo, next),
    el('h2', {}, 'Add a run'), el('div', { class: 'row' }, file, upName, upSpec, upload, upMsg));

  let timer = null;
  filter.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => { state.q = filter.value; state.offset = 0; load(); }, 200); });

  let ctrl = null;
  async function load() {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    const q = new URLSearchParams({ q: state.q, sort: state.sort, offset: state.offset, limit: state.limit });
    if (state.tag) q.set('tag', state.tag);
    tagFilter.replaceChildren(...(state.tag ? [el('span', { class: 'tag' }, `tag: ${state.tag} `, el('a', { href: '#', onclick: ev => { ev.preventDefault(); state.tag = ''; state.offset = 0; load(); } }, '×'))] : []));
    let data;
    try { ({ data } = await api(`/api/runs?${q}`, undefined, ctrl.signal)); err.textContent = ''; }
    catch (e) { if (e.name !== 'AbortError') err.textContent = e.message; return; }
    const desc = state.sort.startsWith('-');
    const key = state.sort.replace(/^-/, '');
    const head = el('tr', {}, el('th', {}, ''), columns.map(([label, k, cls]) => {
      const th = el('th', { class: [cls, k ? 'sortable' : '', k === key ? 'sorted' : '', k === key && desc ? 'desc' : ''].filter(Boolean).join(' ') }, label);
      if (k) th.addEventListener('click', () => { state.sort = k === key && !desc ? '-' + k : k; state.offset = 0; load(); });
      return th;
    }));
    const rows = data.runs.map(r => {
      const box = el('input', { type: 'checkbox', checked: selected.has(r.id) });
      box.addEventListener('change', () => { box.checked ? selected.add(r.id) : selected.delete(r.id); update(); });
      return el('tr', { 'data-id': r.id }, el('td', {}, box),
        el('td', {}, el('a', { href: `#/compare?ids=${r.id}` }, r.name)),
        el('td', {}, r.tags.map(t => el('a', { class: 'tag', href: '#', title: 'show only this tag', onclick: ev => { ev.preventDefault(); state.tag = t; state.offset = 0; load(); } }, t))),
        el('td', { class: 'spec' }, r.schedule || ''),
        el('td', {}, r.status === 'running' ? el('a', { href: `#/live?run=${r.id}` }, '● running') : r.status),
        el('td', { class: 'num' }, r.steps ?? '–'),
        el('td', { class: 'num' }, fmt(r.final_loss)), el('td', { class: 'num' }, fmt(r.best_val_loss)),
        el('td', { class: 'muted' }, r.created.slice(0, 19).replace('T', ' ')));
    });
    table.replaceChildren(el('thead', {}, head), el('tbody', {}, rows));
    count.textContent = `${data.total} runs`;
    pageInfo.textContent = data.total ? `${state.offset + 1}–${Math.min(state.offset + state.limit, data.total)} of ${data.total}` : 'no runs match';
    prev.disabled = state.offset === 0;
    next.disabled = state.offset + state.limit >= data.total;
  }
  function update() {
    compare.disabled = selected.size === 0;
    forecast.disabled = selected.size === 0 || selected.size > 8;
  }
  await load();
  return () => { if (ctrl) ctrl.abort(); clearTimeout(timer); };
}
