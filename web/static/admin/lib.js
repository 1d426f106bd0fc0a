// lib.js: what the admin pages share: roles and the menu, loading data,
// paging, forms, dates and sizes. Everything is shown as text (Preact
// escapes every ${value}); nothing sets innerHTML.
import { html, useCallback, useEffect, useRef, useState, Alert } from '../js/ui.js';
import { api, request, apiURL, session, refreshSession } from '../js/api.js';

export { api, request, apiURL };

export const ADMIN_ROLES = ['SUPER_ADMIN', 'INFLUENCE_ADMIN', 'MAP_ADMIN'];

// SECTIONS is the admin menu: each entry names the roles that may use it,
// exactly as the API allows (SUPER_ADMIN passes every role check there).
export const SECTIONS = [
  { path: '/admin', label: 'Dashboard', roles: ['SUPER_ADMIN', 'INFLUENCE_ADMIN'] },
  { path: '/admin/campaigns', label: 'Campaigns', roles: ['SUPER_ADMIN', 'INFLUENCE_ADMIN'] },
  { path: '/admin/responses', label: 'Responses', roles: ['SUPER_ADMIN', 'INFLUENCE_ADMIN'] },
  { path: '/admin/media', label: 'Media', roles: ['SUPER_ADMIN', 'INFLUENCE_ADMIN'] },
  { path: '/admin/media/jobs', label: 'Media jobs', roles: ['SUPER_ADMIN', 'INFLUENCE_ADMIN'] },
  { path: '/admin/users', label: 'Users', roles: ['SUPER_ADMIN'] },
  { path: '/admin/settings', label: 'Settings', roles: ['SUPER_ADMIN'] },
  // The queue dashboard is a page of its own (asynqmon), served by the API.
  { path: '/api/admin/queues', label: 'Queues', roles: ['SUPER_ADMIN'], native: true },
];

export function may(user, roles) {
  return Boolean(user) && (user.role === 'SUPER_ADMIN' || roles.includes(user.role));
}

export function sectionsFor(user) {
  return SECTIONS.filter((s) => may(user, s.roles));
}

// useLoad runs load() now and whenever deps change; reload() runs it again.
// The state is {loading, data, error}; an answer that comes back after a
// newer load started is dropped.
export function useLoad(load, deps) {
  const [state, setState] = useState({ loading: true });
  const seq = useRef(0);
  const run = useCallback(() => {
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    return Promise.resolve()
      .then(load)
      .then((data) => { if (n === seq.current) setState({ data }); },
        (error) => { if (n === seq.current) setState({ error }); });
  }, deps);
  useEffect(() => { run(); }, [run]);
  return { ...state, reload: run };
}

// usePoll calls fn every ms while the page is shown and visible.
export function usePoll(fn, ms, deps) {
  useEffect(() => {
    let stopped = false;
    let id = null;
    const tick = async () => {
      if (stopped) return;
      if (document.visibilityState === 'visible') {
        try { await fn(); } catch (_) { /* shown by the page */ }
      }
      if (!stopped) id = setTimeout(tick, ms);
    };
    id = setTimeout(tick, ms);
    return () => { stopped = true; clearTimeout(id); };
  }, deps);
}

export function ErrorText({ error }) {
  if (!error) return null;
  const details = (error.details || []).filter((d) => d.message);
  return html`<${Alert}>
    ${error.message || String(error)}
    ${details.length ? html`<ul>${details.map((d) => html`<li>${d.field ? d.field + ': ' : ''}${d.message}</li>`)}</ul>` : null}
  </${Alert}>`;
}

export function Notice({ children }) {
  return html`<${Alert} kind="success">${children}</${Alert}>`;
}

// Pager moves through a {page, limit, total, totalPages} pagination.
export function Pager({ pagination, onPage, label = 'Pages' }) {
  if (!pagination || pagination.totalPages <= 1) return null;
  const { page, totalPages, total } = pagination;
  return html`<nav class="pager" aria-label=${label}>
    <button type="button" class="button-secondary" disabled=${page <= 1} onClick=${() => onPage(page - 1)}>Previous</button>
    <span>Page ${page} of ${totalPages} (${total})</span>
    <button type="button" class="button-secondary" disabled=${page >= totalPages} onClick=${() => onPage(page + 1)}>Next</button>
  </nav>`;
}

// Field is a labelled input; kind "checkbox" puts the box before its label.
export function Field({ id, label, hint, error, kind = 'text', value, onInput, ...rest }) {
  const hintId = hint ? id + '-hint' : undefined;
  const errId = error ? id + '-err' : undefined;
  const describedby = [hintId, errId].filter(Boolean).join(' ') || undefined;
  if (kind === 'checkbox') {
    return html`<div class="field field-check">
      <input id=${id} type="checkbox" checked=${Boolean(value)} onChange=${(e) => onInput(e.target.checked)}
        aria-describedby=${describedby} ...${rest} />
      <label for=${id}>${label}</label>
      ${hint ? html`<p class="hint" id=${hintId}>${hint}</p>` : null}
    </div>`;
  }
  const input = kind === 'textarea'
    ? html`<textarea id=${id} value=${value ?? ''} onInput=${(e) => onInput(e.target.value)} aria-describedby=${describedby}
        aria-invalid=${error ? 'true' : undefined} ...${rest}></textarea>`
    : html`<input id=${id} type=${kind} value=${value ?? ''} onInput=${(e) => onInput(e.target.value)}
        aria-describedby=${describedby} aria-invalid=${error ? 'true' : undefined} ...${rest} />`;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${input}
    ${hint ? html`<p class="hint" id=${hintId}>${hint}</p>` : null}
    ${error ? html`<p class="field-error" id=${errId}>${error}</p>` : null}
  </div>`;
}

export function Select({ id, label, value, options, onInput, ...rest }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <select id=${id} value=${value} onChange=${(e) => onInput(e.target.value)} ...${rest}>
      ${options.map((o) => (typeof o === 'string'
        ? html`<option value=${o}>${o}</option>`
        : html`<option value=${o.value}>${o.label}</option>`))}
    </select>
  </div>`;
}

export function fmtDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString('en-CA', { dateStyle: 'medium', timeStyle: 'short' });
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return (i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0)) + ' ' + units[i];
}

// startOfToday is midnight of the admin's own day, in RFC 3339.
export function startOfToday() {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d.toISOString();
}

// accessToken is a fresh access token, for what fetch() of api.js cannot
// do: an upload with progress (XMLHttpRequest) and authenticated images.
export async function accessToken() {
  let s = session();
  if (s && s.expiresAt - Date.now() < 30_000) {
    await refreshSession();
    s = session();
  }
  return s ? s.accessToken : '';
}

// useAuthedImage turns an image URL that needs the bearer token (a library
// thumbnail) into an object URL the <img> can show.
export function useAuthedImage(path) {
  const [src, setSrc] = useState(null);
  useEffect(() => {
    if (!path) return undefined;
    let url = null;
    let live = true;
    const ctl = new AbortController();
    (async () => {
      const token = await accessToken();
      const res = await fetch(apiURL(path), { headers: { Authorization: 'Bearer ' + token }, signal: ctl.signal });
      if (!res.ok) return;
      const blob = await res.blob();
      if (!live) return;
      url = URL.createObjectURL(blob);
      setSrc(url);
    })().catch(() => {});
    return () => { live = false; ctl.abort(); if (url) URL.revokeObjectURL(url); };
  }, [path]);
  return src;
}

// loadStylesheet adds a stylesheet of this site once (a <link>, which the
// Content-Security-Policy allows; never an inline style).
export function loadStylesheet(href) {
  if (document.querySelector(`link[rel="stylesheet"][href="${href}"]`)) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = href;
  document.head.appendChild(link);
}
