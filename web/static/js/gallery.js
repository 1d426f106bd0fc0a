// The public gallery: /gallery (the published videos as a grid of
// thumbnails) and /gallery/:id (the player, its view count and the six
// reactions). The <video> streams from the media API, which answers Range
// requests, so seeking fetches only what is watched.
import { html, useEffect, useRef, useState, setTitle, Spinner, Alert } from './ui.js';
import { t, addStrings, formatNumber, formatDate } from './i18n.js';
import { api, apiURL, ApiError } from './api.js';

addStrings('en', {
  'gallery.title': 'Video gallery',
  'gallery.intro': 'Videos from our campaigns. Choose one to watch it.',
  'gallery.none': 'No videos have been published yet.',
  'gallery.disabled': 'The video gallery is not open.',
  'gallery.notFound': 'This video is not in the gallery.',
  'gallery.back': 'All videos',
  'gallery.views': '{n} views',
  'gallery.oneView': '1 view',
  'gallery.duration': '{m}:{s}',
  'gallery.by': 'By {name}',
  'gallery.producedBy': 'Produced by {name}',
  'gallery.published': 'Published {date}',
  'gallery.react': 'React to this video',
  'gallery.reactError': 'Your reaction was not recorded. Try again.',
  'gallery.noVideo': 'Your browser cannot play this video.',
  'gallery.prev': 'Previous page',
  'gallery.next': 'Next page',
  'gallery.page': 'Page {page} of {pages}',
  'gallery.pages': 'Gallery pages',
  'gallery.untitled': 'Untitled video',
  'reaction.like': 'Like',
  'reaction.love': 'Love',
  'reaction.laugh': 'Funny',
  'reaction.wow': 'Wow',
  'reaction.sad': 'Sad',
  'reaction.angry': 'Angry',
});
addStrings('fr', {
  'gallery.title': 'Galerie vidéo',
  'gallery.intro': 'Des vidéos de nos campagnes. Choisissez-en une pour la regarder.',
  'gallery.none': 'Aucune vidéo n’a encore été publiée.',
  'gallery.disabled': 'La galerie vidéo n’est pas ouverte.',
  'gallery.notFound': 'Cette vidéo n’est pas dans la galerie.',
  'gallery.back': 'Toutes les vidéos',
  'gallery.views': '{n} vues',
  'gallery.oneView': '1 vue',
  'gallery.duration': '{m} min {s} s',
  'gallery.by': 'Par {name}',
  'gallery.producedBy': 'Produit par {name}',
  'gallery.published': 'Publiée le {date}',
  'gallery.react': 'Réagir à cette vidéo',
  'gallery.reactError': 'Votre réaction n’a pas été enregistrée. Réessayez.',
  'gallery.noVideo': 'Votre navigateur ne peut pas lire cette vidéo.',
  'gallery.prev': 'Page précédente',
  'gallery.next': 'Page suivante',
  'gallery.page': 'Page {page} sur {pages}',
  'gallery.pages': 'Pages de la galerie',
  'gallery.untitled': 'Vidéo sans titre',
  'reaction.like': 'J’aime',
  'reaction.love': 'J’adore',
  'reaction.laugh': 'Drôle',
  'reaction.wow': 'Wow',
  'reaction.sad': 'Triste',
  'reaction.angry': 'Fâché',
});

const REACTIONS = [['like', '👍'], ['love', '❤️'], ['laugh', '😂'], ['wow', '😮'], ['sad', '😢'], ['angry', '😠']];

const sheet = new URL('../css/gallery.css', import.meta.url).href;
if (!document.querySelector(`link[href="${sheet}"]`)) {
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = sheet;
  document.head.appendChild(link);
}

function duration(sec) {
  const total = Math.round(sec || 0);
  return t('gallery.duration', { m: Math.floor(total / 60), s: String(total % 60).padStart(2, '0') });
}

function views(n) {
  return n === 1 ? t('gallery.oneView') : t('gallery.views', { n: formatNumber(n) });
}

function problem(err) {
  if (err instanceof ApiError && err.code === 'feature_disabled') return t('gallery.disabled');
  if (err instanceof ApiError && err.status === 404) return t('gallery.notFound');
  return (err && err.message) || String(err);
}

function Grid({ query }) {
  const [page, setPage] = useState(Number(query && query.get('page')) || 1);
  const [state, setState] = useState({ loading: true });
  useEffect(() => {
    setTitle(t('gallery.title'));
    setState((s) => ({ ...s, loading: true }));
    api.get('/api/media/public', { query: { page, limit: 24 } })
      .then((res) => setState({ res }), (error) => setState({ error }));
  }, [page]);
  const { res } = state;
  return html`<section aria-labelledby="gallery-h">
    <h1 id="gallery-h">${t('gallery.title')}</h1>
    <p class="lede">${t('gallery.intro')}</p>
    ${state.loading ? html`<${Spinner} label=${t('loading')} />` : null}
    ${state.error ? html`<${Alert}>${problem(state.error)}</${Alert}>` : null}
    ${res && res.data.length === 0 ? html`<p>${t('gallery.none')}</p>` : null}
    ${res && res.data.length ? html`<ul class="gallery-grid">${res.data.map((v) => html`<li class="gallery-item" key=${v.id}>
      <a href=${'/gallery/' + v.id} class="gallery-link">
        ${v.thumbnailUrl
          ? html`<img class="gallery-thumb" src=${apiURL(v.thumbnailUrl)} alt="" loading="lazy" width="320" height="180" />`
          : html`<span class="gallery-thumb gallery-thumb-empty" aria-hidden="true">▶</span>`}
        <span class="gallery-title">${v.title || t('gallery.untitled')}</span>
      </a>
      <p class="muted gallery-meta">${duration(v.durationSeconds)} · ${views(v.viewCount)}</p>
    </li>`)}</ul>` : null}
    ${res && res.pagination.totalPages > 1 ? html`<nav class="pager" aria-label=${t('gallery.pages')}>
      <button type="button" class="button button-secondary" disabled=${page <= 1} onClick=${() => setPage(page - 1)}>${t('gallery.prev')}</button>
      <span>${t('gallery.page', { page, pages: res.pagination.totalPages })}</span>
      <button type="button" class="button button-secondary" disabled=${page >= res.pagination.totalPages} onClick=${() => setPage(page + 1)}>${t('gallery.next')}</button>
    </nav>` : null}
  </section>`;
}

function Reactions({ v, onChange }) {
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(false);
  const react = async (type) => {
    setBusy(true);
    setFailed(false);
    try {
      const r = await api.post('/api/media/reactions', { mediaId: v.id, type });
      onChange({ myReaction: r.reaction, reactions: r.reactions });
    } catch (_) {
      setFailed(true);
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="reactions" role="group" aria-label=${t('gallery.react')}>
    ${REACTIONS.map(([type, emoji]) => html`<button type="button" class="reaction" data-reaction=${type}
      aria-pressed=${String(v.myReaction === type)} disabled=${busy} onClick=${() => react(type)}>
      <span aria-hidden="true">${emoji}</span> ${t('reaction.' + type)} <span class="reaction-count">${formatNumber((v.reactions || {})[type] || 0)}</span>
    </button>`)}
    ${failed ? html`<p class="field-error" role="alert">${t('gallery.reactError')}</p>` : null}
  </div>`;
}

function Player({ id }) {
  const [v, setV] = useState(null);
  const [error, setError] = useState(null);
  const counted = useRef(false);
  useEffect(() => {
    api.get('/api/media/public/' + encodeURIComponent(id)).then((r) => { setV(r); setTitle(r.title || t('gallery.untitled')); },
      (err) => { setError(err); setTitle(t('gallery.title')); });
  }, [id]);
  const onPlay = () => {
    if (counted.current) return;
    counted.current = true;
    api.post(`/api/media/public/${v.id}/view`, {}).then((r) => {
      if (r && typeof r.viewCount === 'number') setV((cur) => ({ ...cur, viewCount: r.viewCount }));
    }, () => { counted.current = false; });
  };
  return html`<section aria-labelledby="video-h">
    <p><a href="/gallery">← ${t('gallery.back')}</a></p>
    ${error ? html`<h1 id="video-h">${t('gallery.title')}</h1><${Alert}>${problem(error)}</${Alert}>` : null}
    ${!v && !error ? html`<${Spinner} label=${t('loading')} />` : null}
    ${v ? html`
      <h1 id="video-h">${v.title || t('gallery.untitled')}</h1>
      <div class="player">
        <video class="player-video" controls preload="metadata" playsinline src=${apiURL(v.streamUrl)}
          poster=${v.thumbnailUrl ? apiURL(v.thumbnailUrl) : undefined} onPlay=${onPlay}
          aria-label=${v.title || t('gallery.untitled')}>
          ${t('gallery.noVideo')}
        </video>
      </div>
      <p class="muted video-meta"><span class="view-count">${views(v.viewCount)}</span> · ${duration(v.durationSeconds)}
        ${v.publishedAt ? ' · ' + t('gallery.published', { date: formatDate(v.publishedAt) }) : ''}</p>
      ${v.creator ? html`<p>${t('gallery.by', { name: v.creator })}</p>` : null}
      ${v.producer ? html`<p>${t('gallery.producedBy', { name: v.producer })}</p>` : null}
      <${Reactions} v=${v} onChange=${(p) => setV((cur) => ({ ...cur, ...p }))} />` : null}
  </section>`;
}

export default function Gallery({ params, query }) {
  if (params && params.id) return html`<${Player} id=${params.id} />`;
  return html`<${Grid} query=${query} />`;
}
