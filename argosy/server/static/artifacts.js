// Artifacts: where they are, their garbage-collection state, and a browser with previews.
import { api, bytes, clear, el, enc, localTime } from './lib.js';

const PREVIEW_BYTES = 1 << 20;
const IMAGE = /\.(png|jpe?g|gif|webp|svg|bmp|ico)$/i;
const HTML = /\.html?$/i;
const JSONX = /\.(json|ipynb)$/i;
const CSV = /\.(csv|tsv)$/i;

export function artifactUrls(ns, wf, nodeId, io, name) {
  const base = `/artifact-files/${enc(ns)}/workflows/${enc(wf)}/${enc(nodeId)}/${io}/${enc(name)}`;
  const stored = `/${io === 'inputs' ? 'input-artifacts' : 'artifacts'}/${enc(ns)}/${enc(wf)}/${enc(nodeId)}/${enc(name)}`;
  return { base, stored };
}

export function archiveKind(art) {
  const a = art.archive;
  if (art.raw) return 'raw';
  if (a && 'none' in a) return 'none';
  if (a && 'zip' in a) return 'zip';
  if (a && 'zstd' in a) return 'tar.zst';
  return 'tgz';
}

export function artifactKey(art) {
  for (const k of ['s3', 'local', 'gcs', 'azure', 'oss', 'hdfs', 'artifactory', 'http', 'git']) {
    if (art[k]) return `${k}: ${art[k].key || art[k].url || art[k].repo || art[k].path || ''}`;
  }
  return art.raw ? 'raw (inline)' : '';
}

function findTemplate(wf, name) {
  const pools = [(wf.spec && wf.spec.templates) || [], ((wf.status && wf.status.storedWorkflowTemplateSpec) || {}).templates || [],
    Object.values((wf.status && wf.status.storedTemplates) || {})];
  for (const pool of pools) for (const t of pool) if (t && t.name === name) return t;
  return null;
}

// GC state of one artifact: kept / deleted / failed, plus what will happen to it.
export function gcState(wf, node, art, io) {
  if (art.deleted) return { state: 'deleted', label: 'deleted', detail: 'removed by artifact garbage collection' };
  if (io === 'inputs' || node.type !== 'Pod') return { state: 'kept', label: 'kept', detail: 'inputs are never garbage-collected' };
  const tmpl = findTemplate(wf, node.templateName || (node.templateRef || {}).template);
  const decl = tmpl && (((tmpl.outputs || {}).artifacts) || []).find((a) => a.name === art.name);
  const spec = wf.spec || {};
  const stored = (wf.status && wf.status.storedWorkflowTemplateSpec) || {};
  const strategy = (art.artifactGC || {}).strategy || ((decl || {}).artifactGC || {}).strategy
    || (spec.artifactGC || {}).strategy || (stored.artifactGC || {}).strategy || 'Never';
  const failed = ((wf.status && wf.status.conditions) || []).find((c) => c.type === 'ArtifactGCError');
  if (failed && strategy !== 'Never') return { state: 'failed', label: 'GC failed', detail: failed.message || 'artifact GC failed', strategy };
  const when = { OnWorkflowCompletion: 'deleted when the workflow completes', OnWorkflowDeletion: 'deleted when the workflow is deleted' }[strategy];
  return { state: 'kept', label: 'kept', detail: when || 'kept (no GC strategy)', strategy };
}

export function gcBadge(g) {
  return el(`span.gc.${g.state}`, { title: g.detail + (g.strategy ? ` (strategy ${g.strategy})` : '') }, g.label);
}

// Every artifact of the workflow: [{node, io, art}]
export function allArtifacts(wf) {
  const out = [];
  const nodes = Object.values((wf.status && wf.status.nodes) || {});
  nodes.sort((a, b) => (a.startedAt || '').localeCompare(b.startedAt || ''));
  for (const node of nodes) {
    for (const io of ['inputs', 'outputs']) {
      for (const art of ((node[io] || {}).artifacts) || []) {
        if (io === 'outputs' || art.local || art.s3 || art.raw) out.push({ node, io, art });
      }
    }
  }
  return out;
}

export function artifactTable(wf, rows, onBrowse, options = {}) {
  const ns = wf.metadata.namespace, name = wf.metadata.name;
  if (!rows.length) return el('p.empty', options.empty || 'No artifacts.');
  const compact = !!options.compact;
  const table = el(`table.grid.artifacts${compact ? '.compact' : ''}`, el('thead', el('tr',
    el('th', 'Artifact'), options.showNode ? el('th', 'Step') : null, compact ? null : el('th', 'Size'),
    compact ? null : el('th', 'Stored as'), el('th', 'GC'), el('th', { 'aria-label': 'actions' }))));
  const tbody = el('tbody');
  for (const { node, io, art } of rows) {
    const urls = artifactUrls(ns, name, node.id, io, art.name);
    const g = gcState(wf, node, art, io);
    const deleted = g.state === 'deleted';
    const where = compact ? [art.size !== undefined ? bytes(art.size) : '', archiveKind(art)].filter(Boolean).join(' · ') : (art.path || artifactKey(art));
    tbody.append(el('tr', { 'data-artifact': art.name },
      el('td', el('div.aname', el('span.io', io === 'inputs' ? 'in' : 'out'), ' ', art.name), el('div.muted.mono', { title: artifactKey(art) }, where)),
      options.showNode ? el('td', node.displayName || node.name) : null,
      compact ? null : el('td.num', art.size !== undefined ? bytes(art.size) : ''),
      compact ? null : el('td', el('code', archiveKind(art))),
      el('td', gcBadge(g), compact ? null : el('div.muted.small', g.detail)),
      el('td.actions',
        el('button.btn.small', { type: 'button', disabled: deleted, onclick: () => onBrowse({ node, io, art }) }, 'Browse'),
        deleted ? null : el('a.btn.small.ghost', { href: urls.stored, download: '', title: 'Download the stored object' }, compact ? '↓' : 'Download'))));
  }
  table.append(tbody);
  return table;
}

const FOLDER = 'M1.5 3.5h4l1.5 1.5h7.5v8.5h-13z';
const FILE = 'M3.5 1.5h6l3 3v10h-9z M9.5 1.5v3h3';

function fileIcon(dir) {
  return el('svg.ficon', { width: 16, height: 16, viewBox: '0 0 16 16', 'aria-hidden': 'true' }, el('path', { d: dir ? FOLDER : FILE, class: dir ? 'folder' : 'file' }));
}

// ------------------------------------------------------------------------------------------ browser

export function artifactBrowser(wf, node, io, art) {
  const ns = wf.metadata.namespace, name = wf.metadata.name;
  const { base } = artifactUrls(ns, name, node.id, io, art.name);
  const root = el('div.browser', { 'data-browser': art.name });
  const crumbs = el('nav.crumbs', { 'aria-label': 'path inside the artifact' });
  const body = el('div.browser-body');
  root.append(el('div.browser-head', crumbs), body);

  const pathUrl = (parts, dir) => base + (parts.length ? '/' + parts.map(enc).join('/') : '') + (dir ? '/' : '');

  async function open(parts) {
    clear(body).append(el('p.muted', 'Loading…'));
    clear(crumbs);
    crumbs.append(el('button.crumb', { type: 'button', onclick: () => open([]) }, art.name));
    parts.forEach((p, i) => crumbs.append(el('span.sep', '/'), el('button.crumb', { type: 'button', onclick: () => open(parts.slice(0, i + 1)) }, p)));
    let info;
    try {
      info = await api(pathUrl(parts, false) + '?format=json');
    } catch (e) {
      clear(body).append(el('p.error', e.message));
      return;
    }
    clear(body);
    if (info.type === 'dir') {
      if (info.archive) crumbs.append(el('span.tag', `inside ${info.archive}`));
      body.append(listing(info, parts));
    } else {
      body.append(await preview(pathUrl(parts, false), info.name || parts[parts.length - 1] || art.name, info.size, info.archive));
    }
  }

  function listing(info, parts) {
    if (!info.items.length) return el('p.empty', 'This directory is empty.');
    const tbody = el('tbody');
    if (parts.length) {
      tbody.append(el('tr', el('td', el('button.link', { type: 'button', onclick: () => open(parts.slice(0, -1)) }, fileIcon(true), ' ..')), el('td'), el('td'), el('td')));
    }
    for (const it of info.items) {
      const next = [...parts, it.name];
      const dl = it.type === 'file' ? el('a.btn.small.ghost', { href: pathUrl(next, false), download: it.name }, 'Download') : null;
      tbody.append(el('tr', { 'data-entry': it.name },
        el('td', el('button.link', { type: 'button', onclick: () => open(next) }, fileIcon(it.type === 'dir'), ' ', it.name + (it.type === 'dir' ? '/' : ''))),
        el('td.num', it.type === 'file' ? bytes(it.size) : ''),
        el('td.muted', it.modified ? localTime(it.modified) : ''),
        el('td.actions', dl)));
    }
    return el('table.grid.files', el('thead', el('tr', el('th', 'Name'), el('th', 'Size'), el('th', 'Modified'), el('th'))), tbody);
  }

  open([]);
  return root;
}

async function preview(url, filename, size, archive) {
  const box = el('div.preview');
  const head = el('div.preview-head', el('strong', filename), el('span.muted', size !== undefined && size !== null ? bytes(size) : ''),
    archive ? el('span.tag', `from ${archive}`) : null, el('span.spacer'),
    el('a.btn.small.ghost', { href: url, target: '_blank', rel: 'noopener' }, 'Open'),
    el('a.btn.small', { href: url, download: filename }, 'Download'));
  box.append(head);
  if (IMAGE.test(filename)) {
    box.append(el('div.preview-img', el('img', { src: url, alt: filename })));
    return box;
  }
  if (HTML.test(filename)) {
    box.append(el('iframe.preview-frame', { src: url, sandbox: 'allow-same-origin', title: `preview of ${filename}` }));
    return box;
  }
  let text;
  let truncated = false;
  try {
    const res = await fetch(url, { credentials: 'same-origin', headers: { Range: `bytes=0-${PREVIEW_BYTES - 1}` } });
    if (!res.ok) throw new Error(`${res.status}`);
    const buf = new Uint8Array(await readAtMost(res, PREVIEW_BYTES));
    truncated = (size || 0) > buf.length;
    if (buf.subarray(0, 8000).includes(0)) {
      box.append(el('p.muted.pad', 'Binary file: no preview. Use Download.'));
      return box;
    }
    text = new TextDecoder().decode(buf);
  } catch (e) {
    box.append(el('p.error', `Cannot preview: ${e.message}`));
    return box;
  }
  if (truncated) box.append(el('p.note', `Showing the first ${bytes(PREVIEW_BYTES)} of ${bytes(size)}.`));
  if (JSONX.test(filename) && !truncated) {
    try {
      box.append(el('pre.code.json', JSON.stringify(JSON.parse(text), null, 2)));
      return box;
    } catch { /* not valid JSON: show it as text */ }
  }
  if (CSV.test(filename)) {
    box.append(csvTable(text, filename.toLowerCase().endsWith('.tsv') ? '\t' : ','));
    return box;
  }
  box.append(el('pre.code', text));
  return box;
}

async function readAtMost(res, limit) {
  const reader = res.body.getReader();
  const chunks = [];
  let total = 0;
  while (total < limit) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
  }
  reader.cancel().catch(() => {});
  const out = new Uint8Array(Math.min(total, limit));
  let off = 0;
  for (const c of chunks) {
    const take = Math.min(c.length, out.length - off);
    out.set(c.subarray(0, take), off);
    off += take;
  }
  return out.buffer;
}

function csvTable(text, sep) {
  const rows = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line) continue;
    rows.push(splitCsv(line, sep));
    if (rows.length > 500) break;
  }
  if (!rows.length) return el('p.empty', 'Empty file.');
  const [header, ...rest] = rows;
  return el('div.csv', el('table.grid', el('thead', el('tr', header.map((h) => el('th', h)))),
    el('tbody', rest.map((r) => el('tr', r.map((c) => el('td', c)))))));
}

function splitCsv(line, sep) {
  const out = [];
  let cur = '', q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (q) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') q = false; else cur += ch;
    } else if (ch === '"') q = true;
    else if (ch === sep) { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out;
}
