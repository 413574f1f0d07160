// The product image page: plain DOM, no framework, nothing from the network
// but this gateway.  Logs in with the cookie session and sends the
// XSRF-TOKEN cookie's value on every write.
'use strict';

const api = (id, what) => `/api/v1/Product/${id}/${what}`;
const $ = (id) => document.getElementById(id);
const state = { writer: false, session: false, current: null, etag: null, version: new Map() };

function cookie(name) {
  const hit = document.cookie.split('; ').find((c) => c.startsWith(`${name}=`));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : null;
}

function writeHeaders(extra = {}) {
  const token = cookie('XSRF-TOKEN');
  return token ? { ...extra, 'X-XSRF-TOKEN': token } : extra;
}

function showStatus(message) {
  $('status').textContent = message;
}

function showAlert(message) {
  const a = $('alert');
  a.textContent = message;
  a.hidden = !message;
}

async function failure(res) {
  try {
    const body = await res.json();
    return [body.message, body.details].filter(Boolean).join(' ') || `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

function thumbUrl(id) {
  const v = state.version.get(id);
  return `${api(id, 'Image')}?w=200&h=200&ifBlank=SrNoPhoto${v ? `&v=${encodeURIComponent(v)}` : ''}`;
}

function range() {
  const q = new URLSearchParams(location.search);
  const from = Number.parseInt(q.get('from') ?? '1', 10);
  const to = Number.parseInt(q.get('to') ?? String((Number.isFinite(from) ? from : 1) + 23), 10);
  const f = Number.isFinite(from) ? from : 1;
  const t = Number.isFinite(to) && to >= f ? Math.min(to, f + 199) : f + 23;
  return [f, t];
}

// Thumbnails load two at a time: the gateway renders a few at once (its
// render slots) and answers 503 past them, so a grid never asks for more.
const loader = { queue: [], active: 0, limit: 2 };

function pump() {
  while (loader.active < loader.limit && loader.queue.length) {
    const [img, url] = loader.queue.shift();
    loader.active++;
    const done = () => { loader.active--; pump(); };
    img.addEventListener('load', done, { once: true });
    img.addEventListener('error', done, { once: true });
    img.src = url;
  }
}

function loadThumb(img, url) {
  loader.queue.push([img, url]);
  pump();
}

function renderGrid() {
  const [from, to] = range();
  $('from').value = from;
  $('to').value = to;
  const grid = $('grid');
  grid.replaceChildren();
  for (let id = from; id <= to; id++) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.id = id;
    const img = document.createElement('img');
    loadThumb(img, thumbUrl(id));
    img.alt = `Product ${id}`;
    img.width = 200;
    img.height = 200;
    const label = document.createElement('span');
    label.textContent = `Product ${id}`;
    button.append(img, label);
    button.addEventListener('click', () => openProduct(id));
    li.append(button);
    grid.append(li);
  }
}

function refreshThumb(id) {
  const img = document.querySelector(`#grid button[data-id="${id}"] img`);
  if (img) loadThumb(img, thumbUrl(id));
}

function fact(dl, name, value) {
  const dt = document.createElement('dt');
  dt.textContent = name;
  const dd = document.createElement('dd');
  dd.textContent = value ?? '';
  dl.append(dt, dd);
}

function showInfo(id, info) {
  const has = info !== null;
  $('no-image').hidden = has;
  $('preview').hidden = !has;
  $('delete').disabled = !has || !state.writer;
  $('replace').disabled = !has || !state.writer;
  $('save').disabled = !has || !state.writer;
  $('description').value = has ? info.Description ?? '' : '';
  $('extra').value = has ? info.ExtraInfo ?? '' : '';
  $('conceptual').value = has ? info.ConceptualType ?? '' : '';
  const facts = $('facts');
  facts.replaceChildren();
  if (has) {
    state.version.set(id, info.Sha256.slice(0, 16));
    $('preview').src = `${api(id, 'Image')}?w=600&h=600&v=${info.Sha256.slice(0, 16)}`;
    $('preview').alt = `Product ${id}`;
    fact(facts, 'Width', info.Width);
    fact(facts, 'Height', info.Height);
    fact(facts, 'Format', info.Format);
    fact(facts, 'Frames', info.Frames);
    fact(facts, 'Size', `${info.BlobSize} bytes`);
    fact(facts, 'Updated', info.UpdatedDate);
  }
}

async function loadInfo(id) {
  const res = await fetch(api(id, 'ImageInfo'), { headers: { Accept: 'application/json' } });
  if (res.status === 404) {
    state.etag = null;
    return null;
  }
  if (!res.ok) throw new Error(await failure(res));
  state.etag = res.headers.get('ETag');
  return res.json();
}

async function openProduct(id) {
  showAlert('');
  showStatus('');
  state.current = id;
  $('product').hidden = false;
  $('product-title').textContent = `Product ${id}`;
  $('file').disabled = !state.writer;
  try {
    showInfo(id, await loadInfo(id));
  } catch (e) {
    showAlert(e.message);
  }
  $('product').scrollIntoView({ block: 'nearest' });
}

function upload(file) {
  const id = state.current;
  if (id === null || !file) return;
  showAlert('');
  const progress = $('progress');
  const bar = progress.querySelector('.bar');
  progress.hidden = false;
  progress.setAttribute('aria-valuenow', '0');
  bar.style.width = '0';
  const xhr = new XMLHttpRequest();
  xhr.open('PUT', api(id, 'Image'));
  xhr.setRequestHeader('Accept', 'application/json');
  for (const [k, v] of Object.entries(writeHeaders())) xhr.setRequestHeader(k, v);
  xhr.upload.addEventListener('progress', (e) => {
    if (!e.lengthComputable) return;
    const pct = Math.round((100 * e.loaded) / e.total);
    progress.setAttribute('aria-valuenow', String(pct));
    bar.style.width = `${pct}%`;
  });
  xhr.addEventListener('loadend', async () => {
    progress.hidden = true;
    $('file').value = '';
    if (xhr.status === 200) {
      const info = await loadInfo(id).catch(() => null);
      showInfo(id, info);
      refreshThumb(id);
      return;
    }
    let message = xhr.status ? `HTTP ${xhr.status}` : 'the upload failed';
    try {
      const body = JSON.parse(xhr.responseText);
      message = [body.message, body.details].filter(Boolean).join(' ') || message;
    } catch { /* not JSON */ }
    showAlert(message);
  });
  xhr.send(file);
}

async function remove() {
  const id = state.current;
  showAlert('');
  const res = await fetch(api(id, 'Image'), { method: 'DELETE', headers: writeHeaders() });
  if (!res.ok) {
    showAlert(await failure(res));
    return;
  }
  state.version.set(id, `none-${Date.now()}`);
  refreshThumb(id);
  showInfo(id, null);
}

async function save(event) {
  event.preventDefault();
  const id = state.current;
  showAlert('');
  showStatus('');
  const body = JSON.stringify({
    Description: $('description').value,
    ExtraInfo: $('extra').value,
    ConceptualType: $('conceptual').value,
  });
  const headers = writeHeaders({ 'Content-Type': 'application/json', Accept: 'application/json' });
  if (state.etag) headers['If-Match'] = state.etag;
  const res = await fetch(api(id, 'ImageInfo'), { method: 'PUT', headers, body });
  if (!res.ok) {
    showAlert(await failure(res));
    return;
  }
  state.etag = res.headers.get('ETag');
  showInfo(id, await res.json());
  showStatus('Saved');
}

async function whoami() {
  const res = await fetch('/api/v1/Session', { headers: { Accept: 'application/json' } });
  if (!res.ok) return null;
  return res.json();
}

async function start() {
  const me = await whoami();
  state.writer = !!(me && me.writer);
  state.session = !!(me && me.session);
  $('login').hidden = state.writer;
  $('logout').hidden = !state.session;
  $('who').textContent = me ? (state.session ? `Logged in as ${me.role}` : `Browsing as ${me.role}`) : '';
  $('catalogue').hidden = me === null;
  if (me !== null) renderGrid();
}

async function login(event) {
  event.preventDefault();
  showAlert('');
  const res = await fetch('/api/v1/Session', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ username: $('username').value, password: $('password').value }),
  });
  if (!res.ok) {
    showAlert(await failure(res));
    return;
  }
  $('password').value = '';
  await start();
}

async function logout() {
  await fetch('/api/v1/Session', { method: 'DELETE', headers: writeHeaders() });
  $('product').hidden = true;
  await start();
}

function wire() {
  $('login').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('range').addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams({ from: $('from').value, to: $('to').value });
    history.pushState(null, '', `/?${q}`);
    renderGrid();
  });
  window.addEventListener('popstate', renderGrid);
  $('file').addEventListener('change', () => upload($('file').files[0]));
  $('replace').addEventListener('click', () => $('file').click());
  $('delete').addEventListener('click', remove);
  $('info').addEventListener('submit', save);
  $('close').addEventListener('click', () => { $('product').hidden = true; state.current = null; });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !$('product').hidden) $('close').click();
  });
  const panel = $('product');
  panel.addEventListener('dragover', (e) => { e.preventDefault(); panel.classList.add('dragging'); });
  panel.addEventListener('dragleave', () => panel.classList.remove('dragging'));
  panel.addEventListener('drop', (e) => {
    e.preventDefault();
    panel.classList.remove('dragging');
    if (state.writer && e.dataTransfer.files.length) upload(e.dataTransfer.files[0]);
  });
}

wire();
start().catch((e) => showAlert(e.message));
