// The workflow graph: nodes from status.nodes, edges from `children`, laid out top-to-bottom in layers.
import { el, phaseOf } from './lib.js';

const W = 196, H = 46, SMALL = 14, GAP_X = 28, GAP_Y = 64, PAD = 24;
const SMALL_TYPES = new Set(['StepGroup', 'TaskGroup', 'Retry']);

function isSmall(n) {
  return SMALL_TYPES.has(n.type);
}

// Longest-path layering, then a few barycenter sweeps to reduce crossings.
export function layout(nodes) {
  const ids = Object.keys(nodes);
  const children = new Map(ids.map((id) => [id, (nodes[id].children || []).filter((c) => nodes[c])]));
  const parents = new Map(ids.map((id) => [id, []]));
  for (const [id, cs] of children) for (const c of cs) parents.get(c).push(id);
  const layer = new Map();
  const roots = ids.filter((id) => parents.get(id).length === 0);
  const order = [];
  const indeg = new Map(ids.map((id) => [id, parents.get(id).length]));
  const queue = [...roots];
  for (const r of roots) layer.set(r, 0);
  while (queue.length) {
    const id = queue.shift();
    order.push(id);
    for (const c of children.get(id)) {
      layer.set(c, Math.max(layer.get(c) || 0, layer.get(id) + 1));
      indeg.set(c, indeg.get(c) - 1);
      if (indeg.get(c) === 0) queue.push(c);
    }
  }
  for (const id of ids) if (!layer.has(id)) layer.set(id, 0); // cycles (should not happen)
  const layers = [];
  for (const id of ids) {
    const l = layer.get(id);
    (layers[l] = layers[l] || []).push(id);
  }
  const started = (id) => nodes[id].startedAt || '';
  for (const l of layers) if (l) l.sort((a, b) => started(a).localeCompare(started(b)) || nodes[a].name.localeCompare(nodes[b].name));
  const pos = new Map();
  const index = () => layers.forEach((l) => (l || []).forEach((id, i) => pos.set(id, i)));
  index();
  for (let sweep = 0; sweep < 4; sweep++) {
    for (let i = 1; i < layers.length; i++) {
      const l = layers[i] || [];
      const bary = (id) => {
        const ps = parents.get(id);
        return ps.length ? ps.reduce((s, p) => s + pos.get(p), 0) / ps.length : pos.get(id);
      };
      l.sort((a, b) => bary(a) - bary(b));
      index();
    }
  }
  const widest = Math.max(1, ...layers.map((l) => (l ? l.length : 0)));
  const width = widest * (W + GAP_X) - GAP_X + 2 * PAD;
  const placed = {};
  layers.forEach((l, li) => {
    if (!l) return;
    const rowW = l.length * (W + GAP_X) - GAP_X;
    const x0 = (width - rowW) / 2;
    l.forEach((id, i) => {
      placed[id] = { x: x0 + i * (W + GAP_X) + W / 2, y: PAD + li * (H + GAP_Y) + H / 2, small: isSmall(nodes[id]) };
    });
  });
  const edges = [];
  for (const [id, cs] of children) for (const c of cs) edges.push([id, c]);
  return { placed, edges, width, height: layers.length * (H + GAP_Y) - GAP_Y + 2 * PAD };
}

function truncate(text, max) {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

function bottom(p) {
  return p.y + (p.small ? SMALL : H / 2);
}

function top(p) {
  return p.y - (p.small ? SMALL : H / 2);
}

const TYPE_ICON = { DAG: '◇', Steps: '☰', Pod: '', Suspend: '⏸', Skipped: '↷', Container: '▣' };

// Renders the graph; onSelect(id) is called on click or Enter. Returns {svg, select(id)}.
export function renderGraph(wf, onSelect) {
  const nodes = (wf.status && wf.status.nodes) || {};
  const { placed, edges, width, height } = layout(nodes);
  const svg = el('svg.graph', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'group', 'aria-label': 'workflow graph' });
  const gEdges = el('g.edges');
  for (const [a, b] of edges) {
    const p = placed[a], q = placed[b];
    const y1 = bottom(p), y2 = top(q), my = (y1 + y2) / 2;
    const phase = nodes[b].phase || 'Pending';
    gEdges.append(el(`path.edge.${phaseOf(phase).cls}`, { d: `M${p.x},${y1} C${p.x},${my} ${q.x},${my} ${q.x},${y2 - 4}`, 'marker-end': 'url(#arrow)' }));
  }
  const defs = el('defs', el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 5, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' },
    el('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' })));
  svg.append(defs, gEdges);
  const groups = {};
  for (const [id, p] of Object.entries(placed)) {
    const n = nodes[id];
    const cls = phaseOf(n.phase || 'Pending').cls;
    const label = n.displayName || n.name;
    const g = el(`g.node.${cls}`, { tabindex: 0, role: 'button', 'data-id': id, 'data-name': label, 'aria-label': `${label}: ${n.phase || 'Pending'}`, transform: `translate(${p.x},${p.y})` });
    g.append(el('title', `${label} — ${n.type} — ${n.phase || 'Pending'}${n.message ? '\n' + n.message : ''}`));
    if (p.small) {
      g.append(el('circle.shape', { r: SMALL }), el('text.glyph', { 'text-anchor': 'middle', dy: '0.35em' }, n.type === 'Retry' ? '↻' : ''),
        el('text.small-label', { x: SMALL + 6, dy: '0.35em' }, truncate(label, 24)));
    } else {
      g.append(el('rect.shape', { x: -W / 2, y: -H / 2, width: W, height: H, rx: 8 }));
      g.append(el('circle.status', { cx: -W / 2 + 22, cy: 0, r: 11 }));
      g.append(el('text.status-glyph', { x: -W / 2 + 22, dy: '0.35em', 'text-anchor': 'middle' }, phaseOf(n.phase || 'Pending').icon));
      const sub = n.type === 'Pod' ? (n.templateName || (n.templateRef && n.templateRef.template) || '') : `${TYPE_ICON[n.type] || ''} ${n.type}`;
      g.append(el('text.label', { x: -W / 2 + 42, y: sub ? -4 : 0, dy: sub ? 0 : '0.35em' }, truncate(label, 21)));
      if (sub) g.append(el('text.sublabel', { x: -W / 2 + 42, y: 12 }, truncate(sub, 26)));
    }
    const choose = () => onSelect(id);
    g.addEventListener('click', choose);
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); choose(); }
    });
    svg.append(g);
    groups[id] = g;
  }
  return {
    svg,
    select(id) {
      for (const [gid, g] of Object.entries(groups)) g.classList.toggle('selected', gid === id);
    },
  };
}
