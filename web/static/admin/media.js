// Media: the library (thumbnails, status, publish to and remove from the
// gallery), uploads by picker or drag and drop, and one video's metadata.
//
// Uploads go with XMLHttpRequest, whose upload progress events fetch() does
// not have: the File is appended to a FormData and the browser streams it
// from disk as it sends; the page never reads its bytes, so a file of
// several GB uploads like a small one. Each upload has its own progress bar
// and Cancel (xhr.abort()).
import { html, useEffect, useRef, useState, setTitle, Spinner } from '../js/ui.js';
import { navigate } from '../js/router.js';
import {
  api, apiURL, useLoad, usePoll, ErrorText, Notice, Pager, Field, Select, fmtBytes, fmtDate, accessToken, useAuthedImage,
} from './lib.js';

const OWNER = ['SUPER_ADMIN']; // uploads, deletes and job control (the media API's rule)

// upload sends one file; it returns {promise, abort}. The promise resolves to
// {status, body} for any HTTP answer and rejects on a network failure.
export function upload(file, fields, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = (async () => {
    const token = await accessToken();
    return new Promise((resolve, reject) => {
      xhr.open('POST', apiURL('/api/media/videos'));
      xhr.setRequestHeader('Accept', 'application/json');
      if (token) xhr.setRequestHeader('Authorization', 'Bearer ' + token);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
      xhr.onload = () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
        resolve({ status: xhr.status, body });
      };
      xhr.onerror = () => reject(new Error('the upload failed (network)'));
      xhr.onabort = () => reject(Object.assign(new Error('cancelled'), { cancelled: true }));
      const fd = new FormData();
      for (const [k, v] of Object.entries(fields)) if (v) fd.append(k, v);
      fd.append('file', file, file.name); // last: the fields arrive before the bytes
      xhr.send(fd);
    });
  })();
  return { promise, abort: () => xhr.abort() };
}

let nextUploadId = 1;

function UploadItem({ u, onCancel }) {
  const pct = u.total ? Math.floor((u.loaded / u.total) * 100) : 0;
  return html`<li class="upload-item" data-state=${u.state} data-loaded=${u.loaded}>
    <p class="upload-name">${u.file.name} <span class="muted">(${fmtBytes(u.file.size)})</span></p>
    ${u.state === 'uploading' || u.state === 'waiting' || u.state === 'done' ? html`
      <progress max="100" value=${u.state === 'done' ? 100 : pct} aria-label=${'Upload of ' + u.file.name}>${pct}%</progress>
      <span class="upload-pct">${u.state === 'waiting' ? 'waiting' : (u.state === 'done' ? 100 : pct) + '%'}</span>` : null}
    ${u.state === 'uploading' || u.state === 'waiting' ? html`
      <button type="button" class="button-secondary" onClick=${() => onCancel(u)} aria-label=${'Cancel the upload of ' + u.file.name}>Cancel</button>` : null}
    ${u.state === 'done' ? html`<p class="upload-done" role="status">Uploaded as <a href=${'/admin/media/' + u.video.id}>video #${u.video.id}</a>; its thumbnail is being made.</p>` : null}
    ${u.state === 'duplicate' ? html`<p class="upload-dup" role="status">Already in the library: <a href=${'/admin/media/' + u.existingId}>video #${u.existingId}</a>.</p>` : null}
    ${u.state === 'cancelled' ? html`<p class="muted" role="status">Cancelled.</p>` : null}
    ${u.state === 'error' ? html`<p class="field-error" role="alert">Not uploaded: ${u.error}</p>` : null}
  </li>`;
}

// Uploader takes files from a picker or a drop and uploads them one after
// another (several GB each must not compete for the same link).
function Uploader({ onUploaded }) {
  const [items, setItems] = useState([]);
  const [over, setOver] = useState(false);
  const running = useRef(null); // {id, abort}
  const itemsRef = useRef(items);
  itemsRef.current = items;
  const patch = (id, p) => setItems((list) => list.map((x) => (x.id === id ? { ...x, ...p } : x)));

  const pump = async () => {
    if (running.current) return;
    const next = itemsRef.current.find((x) => x.state === 'waiting');
    if (!next) return;
    const job = upload(next.file, { title: next.file.name.replace(/\.[^.]+$/, '') }, (loaded, total) => patch(next.id, { loaded, total }));
    running.current = { id: next.id, abort: job.abort };
    patch(next.id, { state: 'uploading', loaded: 0, total: next.file.size });
    try {
      const { status, body } = await job.promise;
      if (status === 201 || status === 200) {
        patch(next.id, { state: 'done', video: body });
        onUploaded();
      } else if (status === 409 && body && body.existingId) {
        patch(next.id, { state: 'duplicate', existingId: body.existingId });
      } else {
        patch(next.id, { state: 'error', error: (body && body.error && body.error.message) || 'HTTP ' + status });
      }
    } catch (e) {
      patch(next.id, e.cancelled ? { state: 'cancelled' } : { state: 'error', error: e.message });
    } finally {
      running.current = null;
      // itemsRef is updated on the next render; pump after it.
      setTimeout(pump, 0);
    }
  };
  useEffect(() => { pump(); }, [items.length]);

  const add = (files) => {
    const list = Array.from(files || []).map((file) => ({ id: nextUploadId++, file, state: 'waiting', loaded: 0, total: file.size }));
    if (list.length) setItems((cur) => [...list, ...cur]);
  };
  const cancel = (u) => {
    if (running.current && running.current.id === u.id) running.current.abort();
    else patch(u.id, { state: 'cancelled' });
  };
  return html`<section class="panel" aria-labelledby="up-h">
    <h2 id="up-h">Upload videos</h2>
    <div class=${'dropzone' + (over ? ' dropzone-over' : '')}
      onDragOver=${(e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; setOver(true); }}
      onDragLeave=${() => setOver(false)}
      onDrop=${(e) => { e.preventDefault(); setOver(false); add(e.dataTransfer.files); }}>
      <p>Drop video files here, or</p>
      <label class="button" for="media-file">Choose files</label>
      <input id="media-file" class="visually-hidden" type="file" accept="video/*,.mkv,.mov,.avi" multiple
        onChange=${(e) => { add(e.target.files); e.target.value = ''; }} />
      <p class="muted">MP4, WebM, MOV, MKV or AVI. Large files are fine: they are sent as they are read.</p>
    </div>
    ${items.length ? html`<ul class="upload-list">${items.map((u) => html`<${UploadItem} key=${u.id} u=${u} onCancel=${cancel} />`)}</ul>` : null}
  </section>`;
}

function Thumb({ v }) {
  const src = useAuthedImage(v.hasThumbnail ? `/api/media/videos/${v.id}/thumbnail` : null);
  if (!src) return html`<div class="thumb thumb-empty" aria-hidden="true">${v.status === 'processing' ? '…' : ''}</div>`;
  return html`<img class="thumb" src=${src} alt=${'Thumbnail of ' + (v.title || v.originalName)} />`;
}

function PublishButton({ v, onChange }) {
  const [err, setErr] = useState(null);
  const toggle = async () => {
    setErr(null);
    try {
      if (v.publishedAt) await api.del('/api/media/shared/' + v.id, { auth: 'required' });
      else await api.post('/api/media/shared/' + v.id, {}, { auth: 'required' });
      onChange();
    } catch (x) {
      setErr(x);
    }
  };
  if (v.status !== 'ready' && !v.publishedAt) return null;
  return html`<button type="button" class=${v.publishedAt ? 'button-secondary' : ''} onClick=${toggle}
      aria-label=${(v.publishedAt ? 'Remove from the gallery: ' : 'Publish to the gallery: ') + (v.title || v.originalName)}>
      ${v.publishedAt ? 'Remove from gallery' : 'Publish'}</button>
    <${ErrorText} error=${err} />`;
}

function VideoCard({ v, onChange }) {
  return html`<li class="card video-card" data-video-id=${v.id} data-status=${v.status}>
    <${Thumb} v=${v} />
    <div class="card-body">
      <h3 class="card-title"><a href=${'/admin/media/' + v.id}>${v.title || v.originalName}</a></h3>
      <p class="muted"><span class=${'state state-' + v.status}>${v.status}</span>
        ${v.durationSeconds ? ' · ' + Math.round(v.durationSeconds) + ' s' : ''} · ${fmtBytes(v.sizeBytes)}
        ${v.publishedAt ? html` · <span class="badge">in the gallery</span>` : null}</p>
      ${v.invalidReason ? html`<p class="error-text">${v.invalidReason}</p>` : null}
      <div class="form-actions"><${PublishButton} v=${v} onChange=${onChange} /></div>
    </div>
  </li>`;
}

export function Library({ user }) {
  useEffect(() => setTitle('Media'), []);
  const [q, setQ] = useState({ q: '', status: '', page: 1 });
  const [search, setSearch] = useState('');
  const list = useLoad(() => api.get('/api/media/videos', { auth: 'required', query: { ...q, limit: 24 } }), [q.q, q.status, q.page]);
  const processing = list.data && list.data.data.some((v) => v.status === 'processing');
  usePoll(() => (processing ? list.reload() : null), 2000, [processing, list.reload]);
  const owner = OWNER.includes(user.role);
  return html`<h1>Media</h1>
    ${owner ? html`<${Uploader} onUploaded=${list.reload} />` : html`<p class="muted">Only a SUPER_ADMIN uploads videos.</p>`}
    <p><a href="/admin/media/jobs">Media jobs</a> · <a href="/gallery">The gallery as the public sees it</a></p>
    <form class="filters" role="search" onSubmit=${(e) => { e.preventDefault(); setQ({ ...q, q: search, page: 1 }); }}>
      <${Field} id="v-search" label="Search title, file, producer, creator" kind="search" value=${search} onInput=${setSearch} />
      <${Select} id="v-status" label="Status" value=${q.status} options=${[{ value: '', label: 'Any' }, 'processing', 'ready', 'invalid']}
        onInput=${(v) => setQ({ ...q, status: v, page: 1 })} />
      <div class="form-actions"><button type="submit">Search</button></div>
    </form>
    <${ErrorText} error=${list.error} />
    ${list.loading && !list.data ? html`<${Spinner} label="Loading" />` : null}
    ${list.data && list.data.data.length === 0 ? html`<p>No videos.</p>` : null}
    ${list.data && list.data.data.length ? html`<ul class="card-grid video-grid">${list.data.data.map((v) => html`<${VideoCard}
      key=${v.id} v=${v} onChange=${list.reload} />`)}</ul>
      <${Pager} pagination=${list.data.pagination} onPage=${(p) => setQ({ ...q, page: p })} />` : null}`;
}

export function VideoEdit({ arg, user }) {
  const [v, setV] = useState(null);
  const [f, setF] = useState(null);
  const [err, setErr] = useState(null);
  const [notice, setNotice] = useState('');
  const [category, setCategory] = useState('videos');
  const load = () => api.get('/api/media/videos/' + arg, { auth: 'required' }).then((r) => {
    setV(r);
    setF({ title: r.title, producer: r.producer, creator: r.creator, tags: (r.tags || []).join(', ') });
  }, setErr);
  useEffect(() => { setTitle('Video'); load(); }, [arg]);
  usePoll(() => (v && v.status === 'processing' ? load() : null), 2000, [v && v.status]);
  if (!v) return html`<h1>Video</h1>${err ? html`<${ErrorText} error=${err} />` : html`<${Spinner} label="Loading" />`}`;
  const set = (k) => (val) => setF({ ...f, [k]: val });
  const save = async (e) => {
    e.preventDefault();
    setErr(null);
    setNotice('');
    try {
      const tags = f.tags.split(',').map((s) => s.trim()).filter(Boolean);
      const r = await api.patch('/api/media/videos/' + v.id, { title: f.title, producer: f.producer, creator: f.creator, tags }, { auth: 'required' });
      setV({ ...v, ...r });
      setNotice('Saved.');
    } catch (x) {
      setErr(x);
    }
  };
  const publish = async () => {
    setErr(null);
    try {
      setV({ ...v, ...(await api.post('/api/media/shared/' + v.id, { category }, { auth: 'required' })) });
    } catch (x) { setErr(x); }
  };
  const unpublish = async () => {
    setErr(null);
    try {
      await api.del('/api/media/shared/' + v.id, { auth: 'required' });
      load();
    } catch (x) { setErr(x); }
  };
  const del = async () => {
    if (!window.confirm(`Delete "${v.title || v.originalName}" and its file?`)) return;
    try {
      await api.del('/api/media/videos/' + v.id, { auth: 'required' });
      navigate('/admin/media');
    } catch (x) { setErr(x); }
  };
  const fe = err && err.fieldErrors ? err.fieldErrors() : {};
  return html`<p><a href="/admin/media">← Media</a></p>
    <h1>${v.title || v.originalName}</h1>
    <div class="video-detail">
      <${Thumb} v=${v} />
      <dl class="facts">
        <dt>Status</dt><dd><span class=${'state state-' + v.status}>${v.status}</span>${v.invalidReason ? ' — ' + v.invalidReason : ''}</dd>
        <dt>File</dt><dd>${v.originalName} (${fmtBytes(v.sizeBytes)}, ${v.container})</dd>
        ${v.durationSeconds ? html`<dt>Length</dt><dd>${Math.round(v.durationSeconds)} s, ${v.width}×${v.height} ${v.orientation || ''}</dd>` : null}
        <dt>Views</dt><dd>${v.viewCount}</dd>
        ${v.reactions ? html`<dt>Reactions</dt><dd>${Object.entries(v.reactions).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}</dd>` : null}
        <dt>Uploaded</dt><dd>${fmtDate(v.createdAt)}</dd>
        <dt>Gallery</dt><dd>${v.publishedAt ? html`published ${fmtDate(v.publishedAt)} in “${v.category}” · <a href=${'/gallery/' + v.id}>view</a>` : 'not published'}</dd>
      </dl>
    </div>
    <div class="panel">
      ${v.publishedAt
        ? html`<button type="button" class="button-secondary" onClick=${unpublish}>Remove from gallery</button>`
        : v.status === 'ready'
          ? html`<form class="form-inline" onSubmit=${(e) => { e.preventDefault(); publish(); }}>
              <${Field} id="pub-cat" label="Category" value=${category} onInput=${setCategory} error=${fe.category} />
              <button type="submit">Publish to the gallery</button></form>`
          : html`<p class="muted">A video can be published once it is ready.</p>`}
    </div>
    <form onSubmit=${save} class="panel">
      <h2>Details</h2>
      <${Field} id="ve-title" label="Title" value=${f.title} onInput=${set('title')} error=${fe.title} />
      <${Field} id="ve-producer" label="Producer" value=${f.producer} onInput=${set('producer')} error=${fe.producer} />
      <${Field} id="ve-creator" label="Creator" value=${f.creator} onInput=${set('creator')} error=${fe.creator} />
      <${Field} id="ve-tags" label="Tags" hint="Separated by commas." value=${f.tags} onInput=${set('tags')} error=${fe.tags} />
      <div class="form-actions"><button type="submit">Save</button>
        ${OWNER.includes(user.role) ? html`<button type="button" class="button-danger" onClick=${del}>Delete video</button>` : null}</div>
      <div aria-live="polite">${notice ? html`<${Notice}>${notice}</${Notice}>` : null}</div>
    </form>
    <${ErrorText} error=${err} />`;
}
