// app.js: the pages' entry point. It renders the layout (skip link, header
// with the language switch, main, footer) and the page the URL names.
// Public pages are imported here; the gallery (gallery.js) and the admin
// pages (../admin/index.js) are loaded only when visited, so a campaign page
// never downloads them. Every page module exports
//   default function Page({path, params, query})
import { html, render, useEffect, useRef, useState } from './ui.js';
import { t, lang, setLanguage, onLanguageChange, LANGUAGES } from './i18n.js';
import { match, navigate, startRouter, useLocation } from './router.js';
import { currentUser, setLoginRedirect } from './api.js';
import Home from './pages/home.js';
import Campaign from './pages/campaign.js';
import Responses from './pages/responses.js';
import Verify from './pages/verify.js';
import Login from './pages/login.js';
import NotFound from './pages/notfound.js';

// lazy loads a page module the first time it is shown.
function lazy(load) {
  let mod = null;
  return function Lazy(props) {
    const [, setLoaded] = useState(false);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (mod) return;
      load().then((m) => { mod = m; setLoaded(true); }, () => setFailed(true));
    }, []);
    if (failed) return html`<p class="alert alert-error" role="alert">${t('error.load')}</p>`;
    if (!mod) return html`<p class="spinner" role="status">${t('loading')}</p>`;
    const Page = mod.default;
    return html`<${Page} ...${props} />`;
  };
}

const Gallery = lazy(() => import('./gallery.js'));
const Admin = lazy(() => import('../admin/index.js'));

export const routes = [
  ['/', Home],
  ['/c/:slug', Campaign],
  ['/c/:slug/responses', Responses],
  ['/responses/verify/:token', Verify],
  ['/login', Login],
  ['/gallery', Gallery],
  ['/gallery/:id', Gallery],
  ['/admin', Admin],
  ['/admin/*', Admin],
];

// The status the server answered the first URL with: a campaign it knows
// does not exist is shown as not found without asking again.
const firstPath = location.pathname;
const firstStatus = document.documentElement.dataset.status;

function resolve(path) {
  if (path === firstPath && firstStatus === '404') return [NotFound, {}];
  for (const [pattern, Page] of routes) {
    const params = match(pattern, path);
    if (params) return [Page, params];
  }
  return [NotFound, {}];
}

function LanguageSwitch({ current }) {
  const names = { en: 'English', fr: 'Français' };
  return html`<div class="lang-switch" role="group" aria-label=${t('nav.language')}>
    ${LANGUAGES.map((l) => html`<button type="button" lang=${l} class="link-button" aria-pressed=${String(l === current)}
      onClick=${() => setLanguage(l)}>${names[l]}</button>`)}
  </div>`;
}

const ADMIN_ROLES = ['SUPER_ADMIN', 'INFLUENCE_ADMIN', 'MAP_ADMIN'];

function Header({ current }) {
  const user = currentUser();
  return html`<header class="site-header">
    <a class="skip-link" href="#main" data-native>${t('nav.skip')}</a>
    <div class="site-header-inner">
      <a class="brand" href="/">Changemaker</a>
      <nav aria-label=${t('nav.label')}>
        <ul class="nav-list">
          <li><a href="/">${t('nav.campaigns')}</a></li>
          <li><a href="/gallery">${t('nav.gallery')}</a></li>
          ${user && ADMIN_ROLES.includes(user.role) ? html`<li><a href="/admin">${t('nav.admin')}</a></li>` : null}
        </ul>
      </nav>
      <${LanguageSwitch} current=${current} />
    </div>
  </header>`;
}

function App() {
  const loc = useLocation();
  const [current, setCurrent] = useState(lang());
  const main = useRef(null);
  const first = useRef(true);
  useEffect(() => onLanguageChange(setCurrent), []);
  // After a page change, focus goes to the new page (screen readers announce
  // it, the keyboard starts from its top); not on the first load.
  useEffect(() => {
    if (first.current) { first.current = false; return; }
    main.current?.focus();
  }, [loc.path]);
  const [Page, params] = resolve(loc.path);
  return html`
    <${Header} current=${current} />
    <main id="main" class="page" tabindex="-1" ref=${main}>
      <${Page} key=${loc.path} path=${loc.path} params=${params} query=${loc.query} />
    </main>
    <footer class="site-footer"><p>${t('footer.text')}</p></footer>`;
}

setLoginRedirect(() => {
  const next = location.pathname + location.search;
  navigate('/login?next=' + encodeURIComponent(next), { replace: true });
});
startRouter();
const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
