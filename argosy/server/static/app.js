// Argosy UI: routing, pages (list, workflow, templates, login). Talks only to this server's API.
import {
  PHASES, Unauthorized, ago, api, clear, duration, el, enc, isTerminal, localTime, phaseIcon, phasePill,
  progressBar, streamNdjson, toast,
} from './lib.js';
import { renderGraph } from './graph.js';
import { allArtifacts, artifactBrowser, artifactTable } from './artifacts.js';

const main = document.getElementById('main');
const state = { info: null, teardown: [] };
const LIST_FIELDS = 'metadata,items.metadata.name,items.metadata.namespace,items.metadata.creationTimestamp,items.metadata.labels,'
  + 'items.status.phase,items.status.startedAt,items.status.finishedAt,items.status.progress,items.status.message';

// ------------------------------------------------------------------------------------------ routing

function navigate(path, replace = false) {
  if (replace) history.replaceState(null, '', path); else history.pushState(null, '', path);
  route();
}

function onTeardown(fn) {
  state.teardown.push(fn);
}

function route() {
  for (const fn of state.teardown.splice(0)) { try { fn(); } catch { /* already gone */ } }
  const path = location.pathname;
  let m;
  highlightNav(path);
  const run = async () => {
    if (path === '/login') return loginPage();
    if (!state.info) state.info = await api('/api/v1/info');
    renderTopbar();
    if ((m = path.match(/^\/workflows\/([^/]+)\/([^/]+)\/?$/))) return workflowPage(decodeURIComponent(m[1]), decodeURIComponent(m[2]));
    if (path.startsWith('/workflow-templates')) return templatesPage();
    return listPage();
  };
  run().catch(handleError);
}

function handleError(e) {
  if (e instanceof Unauthorized) {
    const back = location.pathname === '/login' ? '/' : location.pathname + location.search;
    navigate('/login?redirect=' + enc(back), true);
    return;
  }
  clear(main).append(el('div.page', el('div.error-box', el('h2', 'Something went wrong'), el('p', e.message || String(e)))));
}

document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[data-nav]');
  if (!a || e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', route);

function link(href, ...children) {
  return el('a', { href, 'data-nav': '' }, ...children);
}

// ------------------------------------------------------------------------------------------ chrome

function highlightNav(path) {
  for (const a of document.querySelectorAll('#nav a')) {
    const target = a.getAttribute('href');
    a.classList.toggle('active', target === '/' ? path === '/' || path.startsWith('/workflows') : path.startsWith(target));
  }
}

function renderTopbar() {
  const right = clear(document.getElementById('topright'));
  const info = state.info || {};
  right.append(el('span.mode', { title: `auth mode ${info.authMode}; artifacts: ${info.artifactRepository || ''}` },
    info.authMode === 'client' ? 'token login' : 'local mode'));
  right.append(el('a.toplink', { href: '/api/v1/openapi.json', target: '_blank', rel: 'noopener' }, 'API'));
  if (info.authMode === 'client') {
    right.append(el('button.toplink', { type: 'button', onclick: logout }, 'Log out'));
  }
}

function logout() {
  document.cookie = 'authorization=; path=/; max-age=0; samesite=strict';
  state.info = null;
  navigate('/login');
}

function pageHeader(title, ...right) {
  return el('header.page-head', el('h1', title), el('div.head-actions', right));
}

// ------------------------------------------------------------------------------------------ login

function loginPage() {
  clear(document.getElementById('topright'));
  const input = el('input#token', { type: 'password', autocomplete: 'off', placeholder: 'argosy_…', 'aria-label': 'token', required: true });
  const err = el('p.error', { role: 'alert' });
  const form = el('form.login-card', {
    onsubmit: async (e) => {
      e.preventDefault();
      const token = input.value.trim().replace(/^Bearer\s+/i, '');
      if (!token) return;
      document.cookie = `authorization=${enc('Bearer ' + token)}; path=/; samesite=strict${location.protocol === 'https:' ? '; secure' : ''}`;
      try {
        await api('/api/v1/userinfo');
      } catch (ex) {
        document.cookie = 'authorization=; path=/; max-age=0; samesite=strict';
        err.textContent = ex instanceof Unauthorized ? 'That token is not valid.' : ex.message;
        input.select();
        return;
      }
      const back = new URLSearchParams(location.search).get('redirect') || '/';
      navigate(back.startsWith('/') && !back.startsWith('//') ? back : '/', true);
    },
  },
  el('div.login-logo', logo(40)),
  el('h1', 'Log in to Argosy'),
  el('p.muted', 'This server asks for a token. On the machine running it, run:'),
  el('pre.cmd', 'argosy auth token'),
  el('label', { for: 'token' }, 'Token'), input, err,
  el('button.btn.primary.wide', { type: 'submit' }, 'Log in'));
  clear(main).append(el('div.login-wrap', form));
  input.focus();
}

export function logo(size = 22) {
  return el('svg.logo', { width: size, height: size, viewBox: '0 0 32 32', 'aria-hidden': 'true' },
    el('path', { d: 'M16 3 L16 21 L6 21 Z', class: 'sail1' }),
    el('path', { d: 'M18 7 L18 21 L26 21 Z', class: 'sail2' }),
    el('path', { d: 'M3 23 H29 L25 29 H7 Z', class: 'hull' }));
}

// ------------------------------------------------------------------------------------------ list

async function listPage() {
  document.title = 'Workflows · Argosy';
  const params = new URLSearchParams(location.search);
  let phase = params.get('phase') || '';
  let query = params.get('q') || '';
  let items = [];
  let selected = 0;
  const chips = el('div.chips', { role: 'toolbar', 'aria-label': 'filter by phase' });
  const search = el('input.search', { type: 'search', placeholder: 'Filter by name  ( / )', value: query, 'aria-label': 'filter by name' });
  const tableWrap = el('div.table-wrap');
  const count = el('span.count');
  clear(main).append(el('div.page',
    pageHeader(el('span', 'Workflows ', count), el('a.btn.primary', { href: '/workflow-templates', 'data-nav': '' }, '+ New workflow')),
    el('div.filters', chips, search),
    tableWrap));

  const visible = () => items.filter((w) => (!phase || (w.status && w.status.phase || 'Pending') === phase)
    && (!query || w.metadata.name.includes(query)));

  function syncUrl() {
    const p = new URLSearchParams();
    if (phase) p.set('phase', phase);
    if (query) p.set('q', query);
    history.replaceState(null, '', '/workflows' + (p.toString() ? '?' + p : ''));
  }

  function renderChips() {
    clear(chips);
    const counts = {};
    for (const w of items) { const p = (w.status && w.status.phase) || 'Pending'; counts[p] = (counts[p] || 0) + 1; }
    const chip = (value, label, n) => el(`button.chip${phase === value ? '.on' : ''}`, {
      type: 'button', 'aria-pressed': phase === value ? 'true' : 'false',
      onclick: () => { phase = value; selected = 0; syncUrl(); render(); },
    }, value ? el(`span.cdot.${PHASES[value].cls}`) : null, label, el('span.n', String(n)));
    chips.append(chip('', 'All', items.length));
    for (const p of ['Running', 'Pending', 'Succeeded', 'Failed', 'Error']) if (counts[p] || phase === p) chips.append(chip(p, p, counts[p] || 0));
  }

  function render() {
    renderChips();
    const rows = visible();
    count.textContent = items.length ? String(items.length) : '';
    clear(tableWrap);
    if (!items.length) {
      tableWrap.append(el('div.empty-state', logo(56), el('h2', 'No workflows yet'),
        el('p', 'Submit one from a template, or from a terminal:'), el('pre.cmd', 'argosy submit examples/hello-world.yaml'),
        el('a.btn.primary', { href: '/workflow-templates', 'data-nav': '' }, 'Browse templates')));
      return;
    }
    if (!rows.length) { tableWrap.append(el('p.empty', 'No workflow matches the filter.')); return; }
    selected = Math.min(selected, rows.length - 1);
    const now = Date.now();
    const tbody = el('tbody');
    rows.forEach((w, i) => {
      const st = w.status || {};
      const href = `/workflows/${enc(w.metadata.namespace)}/${enc(w.metadata.name)}`;
      const tr = el(`tr.row${i === selected ? '.sel' : ''}`, { 'data-name': w.metadata.name, onclick: (e) => { if (!e.target.closest('a')) navigate(href); } },
        el('td.st', phaseIcon(st.phase)),
        el('td.name', link(href, w.metadata.name)),
        el('td', phasePill(st.phase)),
        el('td.muted', { title: localTime(st.startedAt || w.metadata.creationTimestamp) }, ago(st.startedAt || w.metadata.creationTimestamp, now)),
        el('td.num', duration(st.startedAt, st.finishedAt, now)),
        el('td', progressBar(st.progress)),
        el('td.msg', { title: st.message || '' }, st.message || ''),
        el('td.muted', w.metadata.namespace));
      tbody.append(tr);
    });
    tableWrap.append(el('table.grid.wf-list',
      el('thead', el('tr', el('th', { 'aria-label': 'status' }), el('th', 'Name'), el('th', 'Phase'), el('th', 'Started'), el('th', 'Duration'), el('th', 'Progress'), el('th', 'Message'), el('th', 'Namespace'))),
      tbody));
  }

  async function load() {
    const data = await api('/api/v1/workflows/?fields=' + enc(LIST_FIELDS));
    items = data.items || [];
    render();
  }

  search.addEventListener('input', () => { query = search.value.trim(); selected = 0; syncUrl(); render(); });
  const keys = (e) => {
    if (e.target.matches('input, textarea, select')) {
      if (e.key === 'Escape') e.target.blur();
      return;
    }
    const rows = visible();
    if (e.key === '/') { e.preventDefault(); search.focus(); } else if (e.key === 'j' || e.key === 'ArrowDown') { selected = Math.min(selected + 1, rows.length - 1); render(); e.preventDefault(); } else if (e.key === 'k' || e.key === 'ArrowUp') { selected = Math.max(selected - 1, 0); render(); e.preventDefault(); } else if (e.key === 'Enter' && rows[selected]) navigate(`/workflows/${enc(rows[selected].metadata.namespace)}/${enc(rows[selected].metadata.name)}`);
  };
  document.addEventListener('keydown', keys);
  onTeardown(() => document.removeEventListener('keydown', keys));
  await load();
  const timer = setInterval(() => load().catch(handleError), 2000);
  onTeardown(() => clearInterval(timer));
}

// ------------------------------------------------------------------------------------------ workflow

async function workflowPage(ns, name) {
  document.title = `${name} · Argosy`;
  const base = `/api/v1/workflows/${enc(ns)}/${enc(name)}`;
  let wf = await api(base);
  const params = new URLSearchParams(location.search);
  let tab = params.get('tab') || 'graph';
  let nodeId = params.get('node') || null;
  let nodeTab = params.get('nodeTab') || 'summary';
  let graph = null;
  let lastVersion = null;
  const headActions = el('div.head-actions');
  const title = el('h1');
  const strip = el('div.strip');
  const tabs = el('div.tabs', { role: 'tablist' });
  const content = el('div.tab-content');
  clear(main).append(el('div.page.wf-page',
    el('nav.breadcrumb', link('/workflows', 'Workflows'), el('span.sep', '/'), el('span', ns), el('span.sep', '/'), el('span', name)),
    el('header.page-head', title, headActions), strip, tabs, content));
  const panelCleanup = [];
  onTeardown(() => panelCleanup.splice(0).forEach((f) => f()));

  function syncUrl() {
    const p = new URLSearchParams();
    if (tab !== 'graph') p.set('tab', tab);
    if (nodeId) p.set('node', nodeId);
    if (nodeId && nodeTab !== 'summary') p.set('nodeTab', nodeTab);
    history.replaceState(null, '', location.pathname + (p.toString() ? '?' + p : ''));
  }

  async function act(verb, method = 'PUT', confirmText = null) {
    if (confirmText && !(await confirmDialog(confirmText))) return;
    try {
      if (verb === 'delete') {
        await api(base, { method: 'DELETE' });
        toast(`Deleted ${name}`);
        navigate('/workflows');
        return;
      }
      const res = await api(`${base}/${verb}`, { method, json: { name, namespace: ns } });
      if (verb === 'resubmit') { navigate(`/workflows/${enc(res.metadata.namespace)}/${enc(res.metadata.name)}`); return; }
      toast(`${verb[0].toUpperCase() + verb.slice(1)} requested`);
      await refresh(true);
    } catch (e) {
      if (e instanceof Unauthorized) return handleError(e);
      toast(e.message, 'error');
    }
  }

  function renderHeader() {
    const st = wf.status || {};
    clear(title).append(phaseIcon(st.phase), ' ', name, ' ', phasePill(st.phase));
    clear(headActions);
    const running = !isTerminal(st.phase);
    const btn = (label, onclick, cls = '', extra = {}) => el(`button.btn${cls}`, { type: 'button', onclick, ...extra }, label);
    if (running) {
      if ((wf.spec || {}).suspend) headActions.append(btn('Resume', () => act('resume')));
      else headActions.append(btn('Suspend', () => act('suspend')));
      headActions.append(btn('Stop', () => act('stop', 'PUT', `Stop ${name}? Running steps are stopped; exit handlers still run.`)));
      headActions.append(btn('Terminate', () => act('terminate', 'PUT', `Terminate ${name}? Everything stops now, without exit handlers.`), '.danger-ghost'));
    }
    if (st.phase === 'Failed' || st.phase === 'Error') headActions.append(btn('Retry', () => act('retry'), '.primary'));
    headActions.append(btn('Resubmit', () => act('resubmit')));
    headActions.append(btn('Delete', () => act('delete', 'DELETE', `Delete ${name}? Its artifacts are garbage-collected as its artifactGC strategy says.`), '.danger-ghost'));

    const now = Date.now();
    const fact = (label, value, extra = {}) => el('div.fact', extra, el('div.flabel', label), el('div.fvalue', value));
    const conds = st.conditions || [];
    const gcErr = conds.find((c) => c.type === 'ArtifactGCError');
    const gcStrategy = ((wf.spec || {}).artifactGC || {}).strategy || ((st.storedWorkflowTemplateSpec || {}).artifactGC || {}).strategy;
    clear(strip).append(...[
      fact('Started', st.startedAt ? ago(st.startedAt, now) : '—', { title: localTime(st.startedAt) }),
      fact('Duration', duration(st.startedAt, st.finishedAt, now) || '—'),
      fact('Progress', progressBar(st.progress)),
      fact('Finished', st.finishedAt ? localTime(st.finishedAt) : '—'),
      gcErr ? fact('Artifact GC', el('span.gc.failed', 'failed'), { title: gcErr.message })
        : gcStrategy ? fact('Artifact GC', gcStrategy.replace(/^On/, 'on ').replace('Workflow', 'workflow ').toLowerCase(), { title: `artifactGC strategy ${gcStrategy}` }) : null,
      st.message ? el('div.fact.wide', el('div.flabel', 'Message'), el('div.fvalue.msg-full', st.message)) : null].filter(Boolean));
  }

  function renderTabs() {
    clear(tabs);
    const nArts = allArtifacts(wf).length;
    for (const [id, label] of [['graph', 'Graph'], ['logs', 'Logs'], ['artifacts', `Artifacts${nArts ? ' ' + nArts : ''}`], ['events', 'Conditions & events'], ['spec', 'Spec']]) {
      tabs.append(el(`button.tab${tab === id ? '.on' : ''}`, { type: 'button', role: 'tab', 'aria-selected': tab === id ? 'true' : 'false', 'data-tab': id, onclick: () => { tab = id; syncUrl(); renderTabs(); renderContent(); } }, label));
    }
  }

  let graphBox = null, panel = null;
  function renderContent() {
    panelCleanup.splice(0).forEach((f) => f());
    clear(content);
    graph = null;
    if (tab === 'graph') {
      graphBox = el('div.graph-box');
      panel = el('aside.panel', { 'aria-label': 'node details' });
      content.append(el('div.graph-layout', graphBox, panel));
      drawGraph();
      renderPanel();
    } else if (tab === 'logs') {
      content.append(logsView(wf, null));
    } else if (tab === 'artifacts') {
      const browserBox = el('div.browser-box');
      content.append(artifactTable(wf, allArtifacts(wf), ({ node, io, art }) => {
        clear(browserBox).append(artifactBrowser(wf, node, io, art));
        browserBox.scrollIntoView({ block: 'nearest' });
      }, { showNode: true, empty: 'This workflow has no artifacts.' }), browserBox);
    } else if (tab === 'events') {
      content.append(eventsView(wf, base));
    } else {
      content.append(el('pre.code.spec', JSON.stringify({ metadata: wf.metadata, spec: wf.spec }, null, 2)));
    }
  }

  function drawGraph() {
    if (!graphBox) return;
    const scroll = [graphBox.scrollLeft, graphBox.scrollTop];
    graph = renderGraph(wf, (id) => { nodeId = id; nodeTab = nodeTab || 'summary'; syncUrl(); graph.select(id); renderPanel(); });
    clear(graphBox).append(graph.svg);
    graph.select(nodeId);
    [graphBox.scrollLeft, graphBox.scrollTop] = scroll;
  }

  function renderPanel(refreshOnly = false) {
    if (!panel) return;
    const node = nodeId && wf.status && wf.status.nodes && wf.status.nodes[nodeId];
    panel.classList.toggle('open', !!node);
    if (!node) {
      panelCleanup.splice(0).forEach((f) => f());
      clear(panel).append(el('div.panel-hint', el('p', 'Select a step to see its details, logs and artifacts.'), el('p.muted', 'Tab to a step and press Enter; Esc closes.')));
      return;
    }
    if (refreshOnly && (nodeTab === 'logs' || nodeTab === 'artifacts')) {
      const head = panel.querySelector('.panel-head');
      if (head) head.replaceWith(panelHead(node));
      return;
    }
    panelCleanup.splice(0).forEach((f) => f());
    const body = el('div.panel-body');
    const ptabs = el('div.ptabs', { role: 'tablist' });
    for (const [id, label] of [['summary', 'Summary'], ['io', 'Inputs/Outputs'], ['logs', 'Logs'], ['artifacts', 'Artifacts']]) {
      ptabs.append(el(`button.ptab${nodeTab === id ? '.on' : ''}`, { type: 'button', role: 'tab', 'data-ptab': id, onclick: () => { nodeTab = id; syncUrl(); renderPanel(); } }, label));
    }
    clear(panel).append(panelHead(node), ptabs, body);
    if (nodeTab === 'summary') body.append(nodeSummary(wf, node));
    else if (nodeTab === 'io') body.append(nodeIO(node));
    else if (nodeTab === 'logs') body.append(node.type === 'Pod' ? logsView(wf, node, panelCleanup) : el('p.empty', `A ${node.type} node has no logs of its own: open one of its steps.`));
    else {
      const rows = [];
      for (const io of ['inputs', 'outputs']) for (const art of ((node[io] || {}).artifacts) || []) rows.push({ node, io, art });
      const browserBox = el('div.browser-box');
      body.append(artifactTable(wf, rows, ({ io, art }) => { clear(browserBox).append(artifactBrowser(wf, node, io, art)); }, { empty: 'This step has no artifacts.', compact: true }), browserBox);
    }
  }

  function panelHead(node) {
    return el('div.panel-head', el('div.ptitle', phaseIcon(node.phase), el('strong', node.displayName || node.name), el('span.muted', node.type)),
      el('button.icon-btn', { type: 'button', 'aria-label': 'close details', onclick: closePanel }, '✕'));
  }

  function closePanel() {
    nodeId = null;
    syncUrl();
    if (graph) graph.select(null);
    renderPanel();
  }

  const keys = (e) => {
    if (e.key === 'Escape' && nodeId && !document.querySelector('dialog[open]')) closePanel();
  };
  document.addEventListener('keydown', keys);
  onTeardown(() => document.removeEventListener('keydown', keys));

  async function refresh(force = false) {
    const next = await api(base);
    if (!force && next.metadata.resourceVersion === lastVersion) return;
    wf = next;
    lastVersion = wf.metadata.resourceVersion;
    renderHeader();
    if (tab === 'graph') { drawGraph(); renderPanel(true); }
    renderTabs();
  }

  lastVersion = wf.metadata.resourceVersion;
  renderHeader();
  renderTabs();
  renderContent();
  const timer = setInterval(() => {
    if (isTerminal((wf.status || {}).phase) && document.hidden) return;
    refresh().catch((e) => { if (e.status === 404) { clearInterval(timer); toast(`${name} no longer exists`); } else handleError(e); });
  }, 1500);
  onTeardown(() => clearInterval(timer));
}

function nodeSummary(wf, node) {
  const rows = [
    ['Name', node.name], ['ID', node.id], ['Type', node.type], ['Phase', phasePill(node.phase)],
    ['Template', node.templateName || (node.templateRef ? `${node.templateRef.name}/${node.templateRef.template}` : '')],
    ['Pod name', node.type === 'Pod' ? podName(wf, node) : ''],
    ['Started', localTime(node.startedAt)], ['Finished', localTime(node.finishedAt)],
    ['Duration', duration(node.startedAt, node.finishedAt)], ['Progress', node.progress || ''],
    ['Exit code', (node.outputs || {}).exitCode || ''], ['Host', node.hostNodeName || ''],
    ['Resources', node.resourcesDuration ? Object.entries(node.resourcesDuration).map(([k, v]) => `${v}s × ${k}`).join(', ') : ''],
  ];
  const dl = el('dl.kv');
  for (const [k, v] of rows) if (v !== '' && v !== undefined && v !== null) dl.append(el('dt', k), el('dd', v));
  return el('div', node.message ? el('div.message', { role: 'note' }, node.message) : null, dl);
}

function paramTable(params) {
  if (!params || !params.length) return null;
  return el('table.grid.params', el('tbody', params.map((p) => el('tr', el('th', p.name), el('td', el('code.val', p.value !== undefined ? String(p.value) : (p.default !== undefined ? `${p.default} (default)` : '')))))));
}

function nodeIO(node) {
  const box = el('div.io');
  for (const io of ['inputs', 'outputs']) {
    const data = node[io] || {};
    const parts = [];
    const pt = paramTable(data.parameters);
    if (pt) parts.push(el('h4', 'Parameters'), pt);
    if (data.artifacts && data.artifacts.length) parts.push(el('h4', 'Artifacts'), el('ul.plain', data.artifacts.map((a) => el('li', el('code', a.name), ' ', el('span.muted', a.path || '')))));
    if (io === 'outputs' && data.result !== undefined) parts.push(el('h4', 'Result'), el('pre.code.small', data.result));
    box.append(el('section', el('h3', io === 'inputs' ? 'Inputs' : 'Outputs'), parts.length ? parts : el('p.empty', 'None')));
  }
  return box;
}

function fnv32a(text) {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) { h ^= b; h = Math.imul(h, 0x01000193) >>> 0; }
  return h >>> 0;
}

function podName(wf, node) {
  const wfName = wf.metadata.name;
  if (node.name === wfName) return wfName;
  const tmpl = (node.templateRef && node.templateRef.template) || node.templateName || '';
  return `${tmpl ? `${wfName}-${tmpl}` : wfName}-${fnv32a(node.name)}`;
}

// ------------------------------------------------------------------------------------------ logs

function logsView(wf, node, cleanup) {
  const ns = wf.metadata.namespace, name = wf.metadata.name;
  const running = !isTerminal((wf.status || {}).phase) && (!node || !isTerminal(node.phase));
  const pre = el('pre.log', { tabindex: 0, 'aria-label': 'log output', 'aria-live': 'off' });
  const status = el('span.log-status');
  let follow = true;
  const followBtn = el('label.toggle', el('input', { type: 'checkbox', checked: true, onchange: (e) => { follow = e.target.checked; if (follow) pre.scrollTop = pre.scrollHeight; } }), ' Auto-scroll');
  let wrap = false;
  const wrapBtn = el('label.toggle', el('input', { type: 'checkbox', onchange: (e) => { wrap = e.target.checked; pre.classList.toggle('wrap', wrap); } }), ' Wrap');
  const box = el('div.logs', el('div.log-toolbar', status, el('span.spacer'), wrapBtn, followBtn), pre);
  const url = `/api/v1/workflows/${enc(ns)}/${enc(name)}/log?logOptions.container=main`
    + (node ? `&podName=${enc(podName(wf, node))}` : '') + (running ? '&logOptions.follow=true' : '');
  const pods = new Map();
  let count = 0;
  const podLabel = (p) => {
    if (!pods.has(p)) {
      const n = Object.values(wf.status.nodes || {}).find((x) => x.type === 'Pod' && podName(wf, x) === p);
      pods.set(p, n ? n.displayName : p);
    }
    return pods.get(p);
  };
  status.textContent = running ? 'Following…' : 'Loading…';
  status.classList.toggle('live', running);
  let pending = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const frag = document.createDocumentFragment();
    for (const r of pending) {
      frag.append(el('span.line', node ? null : el('span.pod', podLabel(r.podName)), r.content + '\n'));
    }
    pending = [];
    pre.append(frag);
    if (follow) pre.scrollTop = pre.scrollHeight;
  };
  const stop = streamNdjson(url, (item) => {
    if (!item.result) return;
    count++;
    pending.push(item.result);
    if (!scheduled) { scheduled = true; requestAnimationFrame(flush); }
  }, (err) => {
    flush();
    status.classList.remove('live');
    if (err instanceof Unauthorized) { handleError(err); return; }
    status.textContent = err ? `Error: ${err.message}` : `${count} line${count === 1 ? '' : 's'}${running ? ' · ended' : ''}`;
    if (!err && count === 0) pre.append(el('span.muted', node && node.phase === 'Pending' ? 'The step has not started yet.' : 'No output.'));
  });
  (cleanup || state.teardown).push(stop);
  return box;
}

// ------------------------------------------------------------------------------------------ events

function eventsView(wf, base) {
  const conds = (wf.status || {}).conditions || [];
  const evBox = el('div', el('p.muted', 'Loading events…'));
  api(`${base}/events`).then((data) => {
    const items = data.items || [];
    clear(evBox).append(items.length ? el('table.grid.events',
      el('thead', el('tr', el('th', 'Type'), el('th', 'Reason'), el('th', 'Message'), el('th', 'Count'), el('th', 'Last seen'))),
      el('tbody', items.map((e) => el(`tr${e.type === 'Warning' ? '.warn' : ''}`, el('td', e.type), el('td', el('code', e.reason)), el('td', e.message), el('td.num', e.count), el('td.muted', { title: localTime(e.lastTimestamp) }, ago(e.lastTimestamp))))))
      : el('p.empty', 'No events recorded.'));
  }).catch((e) => clear(evBox).append(el('p.error', e.message)));
  return el('div.events-view',
    el('h3', 'Conditions'),
    conds.length ? el('table.grid', el('thead', el('tr', el('th', 'Type'), el('th', 'Status'), el('th', 'Message'))),
      el('tbody', conds.map((c) => el(`tr${c.type === 'ArtifactGCError' ? '.warn' : ''}`, el('td', el('code', c.type)), el('td', c.status), el('td', c.message || '')))))
      : el('p.empty', 'No conditions.'),
    el('h3', 'Events'), evBox);
}

// ------------------------------------------------------------------------------------------ templates

async function templatesPage() {
  document.title = 'Templates · Argosy';
  const data = await api('/api/v1/workflow-templates/');
  const items = data.items || [];
  const grid = el('div.cards');
  clear(main).append(el('div.page', pageHeader('Workflow templates'), grid));
  if (!items.length) {
    grid.append(el('div.empty-state', logo(56), el('h2', 'No templates'), el('p', 'Add WorkflowTemplates from a terminal, then submit them here:'), el('pre.cmd', 'argosy template create my-template.yaml')));
    return;
  }
  for (const t of items) {
    const spec = t.spec || {};
    const params = ((spec.arguments || {}).parameters) || [];
    const desc = ((t.metadata.annotations || {})['workflows.argoproj.io/description']) || '';
    grid.append(el('article.card', { 'data-template': t.metadata.name },
      el('h3', t.metadata.name), el('p.muted', t.metadata.namespace || ''),
      desc ? el('p', desc) : null,
      el('p.small', `entrypoint ${spec.entrypoint || '—'} · ${params.length} parameter${params.length === 1 ? '' : 's'} · ${(spec.templates || []).length} templates`),
      el('button.btn.primary', { type: 'button', onclick: () => submitDialog(t) }, 'Submit…')));
  }
  const wanted = new URLSearchParams(location.search).get('submit');
  const t = wanted && items.find((x) => x.metadata.name === wanted);
  if (t) submitDialog(t);
}

function submitDialog(t) {
  const spec = t.spec || {};
  const params = ((spec.arguments || {}).parameters) || [];
  const fields = [];
  const form = el('form.dialog-form', { method: 'dialog' });
  form.append(el('h2', `Submit ${t.metadata.name}`));
  if (params.length) form.append(el('h4', 'Parameters'));
  for (const p of params) {
    const id = `p-${p.name}`;
    const input = p.enum && p.enum.length
      ? el('select', { id, name: p.name }, p.enum.map((v) => el('option', { value: v, selected: String(v) === String(p.value ?? p.default) }, v)))
      : el('input', { id, name: p.name, value: p.value ?? p.default ?? '', autocomplete: 'off' });
    fields.push([p.name, input]);
    form.append(el('label', { for: id }, p.name, p.description ? el('span.muted', ` — ${p.description}`) : null), input);
  }
  const entry = el('select#entrypoint', (spec.templates || []).map((x) => el('option', { value: x.name, selected: x.name === spec.entrypoint }, x.name)));
  const labels = el('input#labels', { placeholder: 'key=value,key2=value2', autocomplete: 'off' });
  form.append(el('details', el('summary', 'More options'), el('label', { for: 'entrypoint' }, 'Entrypoint'), entry, el('label', { for: 'labels' }, 'Labels'), labels));
  const err = el('p.error', { role: 'alert' });
  const dialog = el('dialog.modal');
  const submit = el('button.btn.primary', { type: 'submit' }, 'Submit');
  form.append(err, el('div.dialog-actions', el('button.btn', { type: 'button', onclick: () => dialog.close() }, 'Cancel'), submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      const body = {
        resourceKind: 'WorkflowTemplate', resourceName: t.metadata.name,
        submitOptions: { parameters: fields.map(([k, i]) => `${k}=${i.value}`), labels: labels.value.trim() || undefined, entryPoint: entry.value !== spec.entrypoint ? entry.value : undefined },
      };
      const wf = await api(`/api/v1/workflows/${enc(t.metadata.namespace || 'default')}/submit`, { method: 'POST', json: body });
      dialog.close();
      navigate(`/workflows/${enc(wf.metadata.namespace)}/${enc(wf.metadata.name)}`);
    } catch (ex) {
      err.textContent = ex.message;
      submit.disabled = false;
    }
  });
  dialog.append(form);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  const first = form.querySelector('input, select');
  if (first) first.focus();
}

function confirmDialog(text) {
  return new Promise((resolve) => {
    const dialog = el('dialog.modal.confirm');
    const ok = el('button.btn.danger', { type: 'button', onclick: () => { dialog.close(); resolve(true); } }, 'Confirm');
    dialog.append(el('p', text), el('div.dialog-actions', el('button.btn', { type: 'button', onclick: () => { dialog.close(); resolve(false); } }, 'Cancel'), ok));
    dialog.addEventListener('cancel', () => resolve(false));
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    ok.focus();
  });
}

// ------------------------------------------------------------------------------------------ boot

document.getElementById('brand').prepend(logo());
route();
