// api.js: the pages' only way to the JSON APIs.
//
//   await api.get('/api/public/campaigns')              → the JSON body
//   await api.post('/api/campaigns', {title: 'x'})      → the JSON body
//   await request('POST', path, {body})                 → {status, data, retryAfter, headers}
//   await untilReady(() => request(...), {onPending})   → repeats a 202 after Retry-After
//
// Errors: every answer that is not 2xx throws an ApiError carrying the
// API's error format ({error: {code, message, details}}): err.status,
// err.code, err.message, err.details ([{field, message}]), err.retryAfter
// (seconds). A network failure is status 0, code "network".
//
// Authentication: login() keeps the tokens the API answers with in
// localStorage ("cm.session": access token, refresh token, expiry, user),
// shared by the site's tabs; requests send the access token as
// "Authorization: Bearer". Before it expires, and after a 401, the access
// token is refreshed quietly (POST /api/auth/refresh; one tab at a time,
// under a Web Lock, since refresh tokens rotate and a reused one revokes the
// session). When the session cannot be refreshed it is forgotten, and a
// request made with {auth: 'required'} sends the person to
// /login?next=<where they were>. JSON routes never read cookies, so no page
// request can be forged cross-site (docs/web.md, "Security").
//
// Media API paths (/api/media/...) go to <html data-media-api> when set
// (development without nginx), else to this origin.

const SESSION_KEY = 'cm.session';
const REFRESH_MARGIN_MS = 30_000;

export class ApiError extends Error {
  constructor(status, code, message, details = [], retryAfter = 0) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }

  // fieldErrors maps each detail's field to its message.
  fieldErrors() {
    const out = {};
    for (const d of this.details || []) if (d.field) out[d.field] = d.message;
    return out;
  }
}

function mediaBase() {
  return document.documentElement.dataset.mediaApi || '';
}

export function apiURL(path, query) {
  let url = path.startsWith('/api/media/') || path === '/api/media' ? mediaBase() + path : path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const s = q.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  return url;
}

// --- the session -----------------------------------------------------------

export function session() {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
    return s && s.accessToken && s.refreshToken ? s : null;
  } catch (_) {
    return null;
  }
}

function saveSession(tok) {
  const s = {
    accessToken: tok.accessToken,
    refreshToken: tok.refreshToken,
    expiresAt: Date.now() + (tok.expiresIn || 900) * 1000,
    user: tok.user,
  };
  localStorage.setItem(SESSION_KEY, JSON.stringify(s));
  return s;
}

export function clearSession() {
  localStorage.removeItem(SESSION_KEY);
}

// currentUser is the signed-in user as last seen ({id, email, name, role, ...}), or null.
export function currentUser() {
  return session()?.user ?? null;
}

let toLogin = () => {
  const next = location.pathname + location.search;
  location.assign('/login?next=' + encodeURIComponent(next));
};

// setLoginRedirect replaces how an expired session goes to the login page
// (app.js routes it through the router).
export function setLoginRedirect(fn) {
  toLogin = fn;
}

export function redirectToLogin() {
  toLogin();
}

let refreshing = null;

// refreshSession gets a new access token with the refresh token; false when
// the session is gone (it is then forgotten).
export function refreshSession() {
  if (!refreshing) {
    const stale = session()?.accessToken;
    const run = () => doRefresh(stale);
    refreshing = (navigator.locks ? navigator.locks.request('cm-refresh', run) : run())
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function doRefresh(stale) {
  const s = session();
  if (!s) return false;
  if (s.accessToken !== stale && s.expiresAt - Date.now() > REFRESH_MARGIN_MS) return true; // another tab did it
  let res;
  try {
    res = await fetch('/api/auth/refresh', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ refreshToken: s.refreshToken }),
    });
  } catch (_) {
    return false; // offline: keep the session, try again later
  }
  if (res.ok) {
    saveSession(await res.json());
    return true;
  }
  if (res.status === 401 || res.status === 400) clearSession();
  return false;
}

export async function login(email, password) {
  const { data } = await request('POST', '/api/auth/login', { body: { email, password }, auth: 'none' });
  return saveSession(data).user;
}

export async function logout() {
  const s = session();
  clearSession();
  try {
    await request('POST', '/api/auth/logout', { body: s ? { refreshToken: s.refreshToken } : {}, auth: 'none' });
  } catch (_) { /* signed out here either way */ }
}

// --- requests ----------------------------------------------------------------

async function toError(res) {
  const retryAfter = Number(res.headers.get('Retry-After')) || 0;
  let body = null;
  try {
    body = await res.json();
  } catch (_) { /* not JSON */ }
  const e = body && body.error;
  if (e && e.code) return new ApiError(res.status, e.code, e.message || e.code, e.details || [], retryAfter);
  return new ApiError(res.status, res.status >= 500 ? 'unavailable' : 'http_' + res.status, res.statusText || 'error', [], retryAfter);
}

// request sends one request. opts: body (JSON, or FormData/Blob sent as is),
// query, headers, auth ('auto': the token when signed in; 'required': the
// login page when not; 'none'), signal, keepalive.
export async function request(method, path, opts = {}) {
  const auth = opts.auth || 'auto';
  if (auth !== 'none') {
    const s = session();
    if (s && s.expiresAt - Date.now() < REFRESH_MARGIN_MS) await refreshSession();
    if (!session() && auth === 'required') {
      toLogin();
      throw new ApiError(401, 'unauthorized', 'sign in first');
    }
  }
  const send = () => {
    const headers = { Accept: 'application/json', ...(opts.headers || {}) };
    const s = auth === 'none' ? null : session();
    if (s) headers.Authorization = 'Bearer ' + s.accessToken;
    let body = opts.body;
    if (body !== undefined && !(body instanceof FormData) && !(body instanceof Blob)) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(body);
    }
    return fetch(apiURL(path, opts.query), {
      method, headers, body, signal: opts.signal, keepalive: opts.keepalive,
      credentials: 'same-origin',
    }).then((res) => ({ res, withToken: Boolean(s) }));
  };
  let res, withToken;
  try {
    ({ res, withToken } = await send());
    if (res.status === 401 && withToken && (await refreshSession())) ({ res, withToken } = await send());
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', err.message || 'network error');
  }
  if (res.status === 401 && auth === 'required') {
    clearSession();
    toLogin();
  }
  if (!res.ok) throw await toError(res);
  let data = null;
  if (res.status !== 204 && (res.headers.get('Content-Type') || '').includes('json')) data = await res.json();
  return { status: res.status, data, headers: res.headers, retryAfter: Number(res.headers.get('Retry-After')) || 0 };
}

// untilReady repeats send (a function returning request(...)) while it
// answers 202, waiting Retry-After seconds (1 to 5) each time, for at most
// timeoutMs; onPending(result) is called for each 202. It resolves to the
// first other answer (or throws its ApiError), or throws code "timeout".
export async function untilReady(send, { onPending, timeoutMs = 60_000, signal } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await send();
    if (r.status !== 202) return r;
    if (onPending) onPending(r);
    const wait = Math.min(5, Math.max(1, r.retryAfter || 1)) * 1000;
    if (Date.now() + wait > deadline) throw new ApiError(202, 'timeout', 'still pending');
    await new Promise((resolve, reject) => {
      const id = setTimeout(resolve, wait);
      signal?.addEventListener('abort', () => { clearTimeout(id); reject(new DOMException('aborted', 'AbortError')); });
    });
  }
}

async function data(method, path, body, opts = {}) {
  return (await request(method, path, { ...opts, body })).data;
}

export const api = {
  get: (path, opts) => data('GET', path, undefined, opts),
  post: (path, body, opts) => data('POST', path, body, opts),
  put: (path, body, opts) => data('PUT', path, body, opts),
  patch: (path, body, opts) => data('PATCH', path, body, opts),
  del: (path, opts) => data('DELETE', path, undefined, opts),
};
