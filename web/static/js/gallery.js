// STUB, owned by the web-admin work: the gallery pages (/gallery and
// /gallery/:id). It replaces this file; the router (app.js) loads it when
// one of those URLs is visited and renders its default export with
// {path, params, query}.
import { html, useEffect, setTitle } from './ui.js';
import { t } from './i18n.js';

export default function Page({ params }) {
  useEffect(() => setTitle(t('nav.gallery')), []);
  return html`<section aria-labelledby="gallery-h">
    <h1 id="gallery-h">${t('nav.gallery')}</h1>
    <p>${params.id ? params.id : ''}</p>
  </section>`;
}
