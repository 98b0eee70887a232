// The dashboard's router and shared helpers. Each page is a module with render(root, params) that may return a
// cleanup function (closing an event stream, say) run when the user leaves the page.
const pages = {
  runs: () => import('./pages/runs.js'),
  compare: () => import('./pages/compare.js'),
  forecast: () => import('./pages/forecast.js'),
  designer: () => import('./pages/designer.js'),
  accuracy: () => import('./pages/accuracy.js'),
  live: () => import('./pages/live.js'),
  sweeps: () => import('./pages/sweeps.js'),
};

let cleanup = null;

/** The current hash route: #/page?key=value → { page, params }. */
export function route() {
  const h = location.hash.replace(/^#\/?/, '');
  const [page, query] = h.split('?');
  return { page: pages[page] ? page : 'runs', params: new URLSearchParams(query || '') };
}

/** Navigates to a page with parameters. */
export function go(page, params = {}) {
  const q = new URLSearchParams(params).toString();
  location.hash = `#/${page}${q ? '?' + q : ''}`;
}

async function show() {
  const { page, params } = route();
  if (cleanup) { try { cleanup(); } catch { /* a page's cleanup must not block the next page */ } cleanup = null; }
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.dataset.page === page));
  const root = document.getElementById('page');
  root.replaceChildren();
  root.dataset.page = page;
  try {
    const mod = await pages[page]();
    cleanup = (await mod.render(root, params)) || null;
  } catch (e) {
    root.append(el('p', { class: 'error' }, String(e.message || e)));
  }
}

/** Calls the API (GET without a body, POST with one, or the given method); throws an Error carrying the server's message on failure. */
export async function api(path, body, signal, method) {
  const init = body === undefined ? { signal, method: method || 'GET' } : {
    method: 'POST', body: typeof body === 'string' || body instanceof Blob ? body : JSON.stringify(body),
    headers: { 'Content-Type': body instanceof Blob ? 'application/octet-stream' : 'application/json' }, signal,
  };
  const r = await fetch(path, { credentials: 'same-origin', ...init });
  let data = null;
  try { data = await r.json(); } catch { /* an empty or non-JSON body: reported below by status */ }
  if (!r.ok && r.status !== 202) throw new Error((data && data.error) || `${r.status} ${r.statusText}`);
  return { status: r.status, data };
}

/** Builds an element: el('td', {class: 'num'}, 'text', child...). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'value') e.value = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

/** A number for tables: 4 decimals for losses, 3 significant digits otherwise; '–' for none. */
export function fmt(v, digits = 4) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3)) return v.toExponential(2);
  return v.toFixed(digits);
}

export function pct(v) { return v === null || v === undefined ? '–' : (100 * v).toFixed(2) + ' %'; }

window.addEventListener('hashchange', show);
window.addEventListener('DOMContentLoaded', show);
