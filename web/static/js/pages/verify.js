// Where the verification link of the response wall's email lands (the
// server sends a browser that opens the emailed API link here): it verifies
// the response through the API and says what happened.
import { html, useEffect, useState, setTitle, Spinner } from '../ui.js';
import { t } from '../i18n.js';
import { api } from '../api.js';

export default function Verify({ params }) {
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    setTitle(t('verify.heading'));
    api.get('/api/public/responses/verify/' + encodeURIComponent(params.token))
      .then((d) => setState({ status: d.response.status }), (err) => setState({ error: err }));
  }, [params.token]);
  let body = null;
  if (state.loading) body = html`<${Spinner} label=${t('verify.checking')} />`;
  else if (state.status === 'APPROVED') body = html`<p class="alert alert-success" role="status">${t('verify.approved')}</p>`;
  else if (state.status === 'REJECTED') body = html`<p class="alert alert-info" role="status">${t('verify.rejected')}</p>`;
  else if (state.status) body = html`<p class="alert alert-success" role="status">${t('verify.pending')}</p>`;
  else if (state.error.status === 400) body = html`<p class="alert alert-error" role="alert">${t('verify.invalid')}</p>`;
  else if (state.error.status === 404 && state.error.code !== 'feature_disabled') body = html`<p class="alert alert-error" role="alert">${t('verify.gone')}</p>`;
  else body = html`<p class="alert alert-error" role="alert">${t('error.unavailable')}</p>`;
  return html`<section aria-labelledby="verify-h">
    <h1 id="verify-h">${t('verify.heading')}</h1>
    ${body}
    <p><a href="/">${t('nav.allCampaigns')}</a></p>
  </section>`;
}
