// The page for unknown URLs (the server answered 404).
import { html, useEffect, setTitle } from '../ui.js';
import { t } from '../i18n.js';

export default function NotFound() {
  useEffect(() => setTitle(t('notfound.heading')), []);
  return html`<section aria-labelledby="nf-h">
    <h1 id="nf-h">${t('notfound.heading')}</h1>
    <p>${t('notfound.text')}</p>
    <p><a href="/">${t('nav.allCampaigns')}</a></p>
  </section>`;
}
