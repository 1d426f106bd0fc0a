// The home page: the active campaigns.
import { html, useEffect, useState, setTitle, safeUrl, Spinner, Alert } from '../ui.js';
import { t, formatNumber } from '../i18n.js';
import { api } from '../api.js';

export function CampaignCard({ c }) {
  const cover = safeUrl(c.coverPhoto);
  return html`<li class="card campaign-card">
    ${cover ? html`<img class="card-image" src=${cover} alt="" loading="lazy" />` : null}
    <div class="card-body">
      <h2 class="card-title"><a href=${'/c/' + encodeURIComponent(c.slug)}>${c.title}</a></h2>
      ${c.status === 'PAUSED' ? html`<p class="badge">${t('campaign.paused')}</p>` : null}
      <p class="card-text">${c.description}</p>
      ${c.emailCount !== undefined ? html`<p class="muted">${t('campaign.emailCount', { n: formatNumber(c.emailCount) })}</p>` : null}
    </div>
  </li>`;
}

export default function Home() {
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    setTitle(t('home.heading'));
    api.get('/api/public/campaigns', { query: { limit: 50 } })
      .then((res) => setState({ list: res.data }), (err) => setState({ error: err }));
  }, []);
  return html`<section aria-labelledby="home-h">
    <h1 id="home-h">${t('home.heading')}</h1>
    <p class="lede">${t('home.intro')}</p>
    ${state.loading ? html`<${Spinner} label=${t('loading')} />` : null}
    ${state.error ? html`<${Alert}>${state.error.code === 'feature_disabled' ? t('home.disabled') : state.error.message}</${Alert}>` : null}
    ${state.list && state.list.length === 0 ? html`<p>${t('home.none')}</p>` : null}
    ${state.list && state.list.length > 0 ? html`<ul class="card-grid">${state.list.map((c) => html`<${CampaignCard} key=${c.slug} c=${c} />`)}</ul>` : null}
  </section>`;
}
