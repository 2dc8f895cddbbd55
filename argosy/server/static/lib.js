// Shared helpers: DOM building, the API client, formatting. No framework, no build step.

export const PHASES = {
  Succeeded: { cls: 'ok', icon: '✓', label: 'Succeeded' },
  Failed: { cls: 'bad', icon: '✕', label: 'Failed' },
  Error: { cls: 'bad', icon: '!', label: 'Error' },
  Running: { cls: 'run', icon: '◐', label: 'Running' },
  Pending: { cls: 'pend', icon: '…', label: 'Pending' },
  Skipped: { cls: 'skip', icon: '↷', label: 'Skipped' },
  Omitted: { cls: 'skip', icon: '–', label: 'Omitted' },
};

export function phaseOf(phase) {
  return PHASES[phase] || PHASES.Pending;
}

// el('div.cls#id', {attr: v, onclick: fn}, child, 'text', [children])
export function el(spec, attrs, ...children) {
  const m = spec.match(/^([a-z0-9-]+)?((?:[.#][\w-]+)*)$/i);
  const tag = (m && m[1]) || 'div';
  const isSvg = ['svg', 'g', 'path', 'rect', 'circle', 'text', 'title', 'line', 'polygon', 'defs', 'marker'].includes(tag);
  const node = isSvg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const part of (m && m[2] ? m[2].match(/[.#][\w-]+/g) : []) || []) {
    if (part[0] === '.') node.classList.add(part.slice(1));
    else node.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function phasePill(phase, extra) {
  const p = phaseOf(phase || 'Pending');
  return el(`span.pill.${p.cls}`, { title: phase || 'Pending' }, el('span.dot', { 'aria-hidden': 'true' }), extra || phase || 'Pending');
}

export function phaseIcon(phase) {
  const p = phaseOf(phase || 'Pending');
  return el(`span.picon.${p.cls}`, { title: phase || 'Pending', 'aria-label': phase || 'Pending' }, p.icon);
}

// ------------------------------------------------------------------------------------------ API

export class Unauthorized extends Error {}

export async function api(path, options = {}) {
  const init = { credentials: 'same-origin', headers: { Accept: 'application/json' }, ...options };
  if (options.json !== undefined) {
    init.body = JSON.stringify(options.json);
    init.headers = { ...init.headers, 'Content-Type': 'application/json' };
    delete init.json;
  }
  const res = await fetch(path, init);
  if (res.status === 401) throw new Unauthorized('login required');
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (!res.ok) {
    const err = new Error((data && (data.message || data.error)) || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return data;
}

// Streams newline-delimited JSON; calls onItem for each parsed object. Returns an abort function.
export function streamNdjson(path, onItem, onEnd) {
  const ctrl = new AbortController();
  (async () => {
    try {
      const res = await fetch(path, { credentials: 'same-origin', signal: ctrl.signal });
      if (res.status === 401) throw new Unauthorized('login required');
      if (!res.ok) {
        let msg = `${res.status}`;
        try { msg = (await res.json()).message; } catch { /* keep the status */ }
        throw new Error(msg);
      }
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (line) onItem(JSON.parse(line));
        }
      }
      if (onEnd) onEnd(null);
    } catch (e) {
      if (e.name !== 'AbortError' && onEnd) onEnd(e);
    }
  })();
  return () => ctrl.abort();
}

// ------------------------------------------------------------------------------------------ formatting

export function parseTime(s) {
  return s ? new Date(s).getTime() : null;
}

export function ago(s, now = Date.now()) {
  const t = parseTime(s);
  if (!t) return '';
  return humanDuration((now - t) / 1000) + ' ago';
}

export function humanDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '';
  seconds = Math.max(0, Math.round(seconds));
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60), s = seconds % 60;
  if (m < 60) return s ? `${m}m ${s}s` : `${m}m`;
  const h = Math.floor(m / 60), mm = m % 60;
  if (h < 48) return mm ? `${h}h ${mm}m` : `${h}h`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function duration(started, finished, now = Date.now()) {
  const a = parseTime(started);
  if (!a) return '';
  const b = parseTime(finished) || now;
  return humanDuration((b - a) / 1000);
}

export function bytes(n) {
  if (n === null || n === undefined) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function localTime(s) {
  const t = parseTime(s);
  return t ? new Date(t).toLocaleString() : '';
}

export function progressBar(progress) {
  const [done, total] = (progress || '0/0').split('/').map(Number);
  const pct = total ? Math.round((100 * done) / total) : 0;
  const fill = el('span.fill');
  fill.style.width = `${pct}%`; // a CSSOM property: the page's CSP refuses style attributes
  return el('span.progress', { title: `${done} of ${total} steps done` },
    el('span.bar', fill), el('span.ptext', progress || ''));
}

export const enc = encodeURIComponent;

export function toast(message, kind = 'info') {
  let box = document.getElementById('toasts');
  if (!box) { box = el('div#toasts', { role: 'status', 'aria-live': 'polite' }); document.body.append(box); }
  const t = el(`div.toast.${kind}`, message);
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

export function isTerminal(phase) {
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Error';
}
