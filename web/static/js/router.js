// router.js: page URLs without reloads. Links to this site's pages are
// followed with history.pushState (a click on any <a href="/..."> is
// caught, unless it opens elsewhere or carries data-native); Back and
// Forward work; reloads and deep links work because the server answers every
// page URL with the same shell.
//
//   match('/c/:slug/responses', '/c/abc/responses') → {slug: 'abc'}
//   match('/admin/*', '/admin/users/3')              → {'*': 'users/3'}
//   navigate('/c/abc'), navigate(url, {replace: true})
//   const loc = useLocation()                        → {path, query (URLSearchParams), href}
import { useEffect, useState } from './ui.js';

const listeners = new Set();

function snapshot() {
  return { path: location.pathname, query: new URLSearchParams(location.search), href: location.pathname + location.search };
}

function notify() {
  const loc = snapshot();
  for (const fn of listeners) fn(loc);
}

export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  notify();
  if (!replace) window.scrollTo(0, 0);
}

export function useLocation() {
  const [loc, setLoc] = useState(snapshot);
  useEffect(() => {
    listeners.add(setLoc);
    return () => listeners.delete(setLoc);
  }, []);
  return loc;
}

export function match(pattern, path) {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  const params = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '*') {
      params['*'] = s.slice(i).map(decodeURIComponent).join('/');
      return params;
    }
    if (i >= s.length) return null;
    if (p[i].startsWith(':')) {
      try {
        params[p[i].slice(1)] = decodeURIComponent(s[i]);
      } catch (_) {
        return null;
      }
    } else if (p[i] !== s[i]) {
      return null;
    }
  }
  return p.length === s.length ? params : null;
}

// startRouter catches clicks on links to this site's pages and Back/Forward.
export function startRouter() {
  window.addEventListener('popstate', notify);
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest && e.target.closest('a[href]');
    if (!a || a.target || a.hasAttribute('download') || a.dataset.native !== undefined) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/static/')) return;
    e.preventDefault();
    if (url.pathname + url.search !== location.pathname + location.search) navigate(url.pathname + url.search + url.hash);
  });
}
