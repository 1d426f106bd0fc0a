// The admin GUI: /admin and /admin/*. It is a client of the JSON APIs and
// enforces nothing itself: the menu shows what the role may use, and every
// request is checked again by the API. Not signed in, or signed in without
// an admin role: the login page, which comes back here after signing in.
import { html, useEffect, setTitle, classes } from '../js/ui.js';
import { navigate } from '../js/router.js';
import { currentUser, logout, redirectToLogin } from '../js/api.js';
import { ADMIN_ROLES, sectionsFor, may, loadStylesheet } from './lib.js';
import Dashboard from './dashboard.js';
import Users from './users.js';
import Settings from './settings.js';
import { Campaigns, CampaignEdit } from './campaigns.js';
import Moderation from './responses.js';
import { Library, VideoEdit } from './media.js';
import Jobs from './jobs.js';

loadStylesheet(new URL('../css/admin.css', import.meta.url).href);

// pages maps an admin path to its page and the roles that may see it.
const pages = [
  [/^\/admin\/?$/, Dashboard, ['INFLUENCE_ADMIN']],
  [/^\/admin\/campaigns\/?$/, Campaigns, ['INFLUENCE_ADMIN']],
  [/^\/admin\/campaigns\/(new|\d+)$/, CampaignEdit, ['INFLUENCE_ADMIN']],
  [/^\/admin\/responses\/?$/, Moderation, ['INFLUENCE_ADMIN']],
  [/^\/admin\/media\/?$/, Library, ['INFLUENCE_ADMIN']],
  [/^\/admin\/media\/jobs\/?$/, Jobs, ['INFLUENCE_ADMIN']],
  [/^\/admin\/media\/(\d+)$/, VideoEdit, ['INFLUENCE_ADMIN']],
  [/^\/admin\/users\/?$/, Users, ['SUPER_ADMIN']],
  [/^\/admin\/settings\/?$/, Settings, ['SUPER_ADMIN']],
];

function resolve(path) {
  for (const [re, Page, roles] of pages) {
    const m = path.match(re);
    if (m) return { Page, roles, arg: m[1] };
  }
  return null;
}

function Menu({ user, path }) {
  const items = sectionsFor(user);
  // The active entry is the longest menu path the page's path starts with.
  const current = items.filter((s) => !s.native && (path === s.path || path.startsWith(s.path + '/')))
    .reduce((a, s) => (!a || s.path.length > a.length ? s.path : a), null);
  const active = (p) => p === current;
  return html`<nav class="admin-menu" aria-label="Admin">
    <ul>
      ${items.map((s) => html`<li>
        <a href=${s.path} data-native=${s.native ? '' : undefined} aria-current=${active(s.path) ? 'page' : undefined}
          class=${classes(active(s.path) && 'active')}>${s.label}</a>
      </li>`)}
    </ul>
  </nav>`;
}

function Bar({ user }) {
  const out = async () => {
    await logout();
    navigate('/login', { replace: true });
  };
  return html`<div class="admin-bar">
    <p class="admin-who">Signed in as <strong>${user.name || user.email}</strong> <span class="badge">${user.role}</span></p>
    <button type="button" class="button-secondary" onClick=${out}>Sign out</button>
  </div>`;
}

export default function Admin({ path, query }) {
  const user = currentUser();
  const isAdmin = user && ADMIN_ROLES.includes(user.role);
  useEffect(() => {
    if (!isAdmin) redirectToLogin();
  }, [isAdmin, path]);
  if (!isAdmin) return null;

  const found = resolve(path);
  let body;
  if (!found) {
    setTitle('Not found');
    body = html`<h1>Not found</h1><p>There is no admin page at this address.</p>`;
  } else if (!may(user, found.roles)) {
    setTitle('Admin');
    body = user.role === 'MAP_ADMIN'
      ? html`<h1>Admin</h1><p>The map pages are not built yet; use the map API for now.</p>`
      : html`<h1>Not for this role</h1><p>Your role (${user.role}) may not use this page.</p>`;
  } else {
    const { Page, arg } = found;
    body = html`<${Page} user=${user} arg=${arg} query=${query} path=${path} />`;
  }
  return html`<div class="admin">
    <${Bar} user=${user} />
    <div class="admin-layout">
      <${Menu} user=${user} path=${path} />
      <div class="admin-content">${body}</div>
    </div>
  </div>`;
}
