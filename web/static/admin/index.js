// STUB, owned by the web-admin work: the admin pages (/admin and
// /admin/*). It replaces this file; the router (../js/app.js) loads it when
// one of those URLs is visited and renders its default export with
// {path, params, query} (params['*'] is the rest of the path after /admin/).
// Shared modules to import: ../js/ui.js (Preact, htm, helpers), ../js/api.js
// (requests, session, login redirect), ../js/i18n.js (t, addStrings),
// ../js/router.js (navigate, match).
import { html, useEffect, setTitle } from '../js/ui.js';
import { t } from '../js/i18n.js';
import { currentUser, redirectToLogin } from '../js/api.js';

export default function Page() {
  const user = currentUser();
  useEffect(() => {
    setTitle(t('nav.admin'));
    if (!user) redirectToLogin();
  }, []);
  if (!user) return null;
  return html`<section aria-labelledby="admin-h">
    <h1 id="admin-h">${t('nav.admin')}</h1>
    <p>${user.email}</p>
  </section>`;
}
