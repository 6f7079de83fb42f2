// Answers whose agents ran side by side (a second model beside the first, or an agent
// graph's fan-out): each parallel group's parts (`groupId`) in columns, one per agent
// (`agentId`), as LibreChat's client draws them, with the parts outside any group before and
// after. The elements are kept from one call to the next, so a streaming answer grows in
// place.

import { agentName, usableAgents } from './agentcatalog.js';
import { h } from './dom.js';

/** Whether answer `m` has parts of agents that ran side by side. */
export const hasColumns = (m) => Array.isArray(m.content) && m.content.some((p) => p && p.groupId != null);

/** Agent ids to names, loaded once (the agents the person may use). */
let names = null;
function agentNames(onLoaded) {
  if (!names) {
    names = new Map();
    usableAgents().then((list) => {
      for (const a of list) names.set(a.id, agentName(a));
      onLoaded();
    }).catch(() => {});
  }
  return names;
}

/**
 * A column's heading for agent id `id`: an agent's name, or the label or model of LibreChat's
 * ephemeral ids (`<endpoint>__<model>___<label>____<n>`, `:` written `__`).
 */
export function columnName(id, known = new Map()) {
  const base = String(id || '').replace(/____\d+$/, '');
  if (known.has(base)) return known.get(base);
  if (base.startsWith('agent_')) return 'Agent';
  const [head, label] = base.split('___');
  if (label) return label.replace(/__/g, ':');
  const at = head.indexOf('__');
  return (at === -1 ? head : head.slice(at + 2)).replace(/__/g, ':') || 'Assistant';
}

/** `parts` cut into sections: `{group: null, parts}` runs, and `{group, columns}` groups. */
function sections(parts) {
  const out = [];
  const groups = new Map();
  for (const p of parts) {
    if (!p) continue;
    if (p.groupId == null) {
      const last = out.at(-1);
      if (last?.group === null) last.parts.push(p);
      else out.push({ group: null, parts: [p] });
      continue;
    }
    let s = groups.get(p.groupId);
    if (!s) {
      s = { group: p.groupId, columns: new Map() };
      groups.set(p.groupId, s);
      out.push(s);
    }
    const agent = p.agentId || '';
    if (!s.columns.has(agent)) s.columns.set(agent, []);
    s.columns.get(agent).push(p);
  }
  return out;
}

/** Puts `children` in `el`, in order, touching it only when they differ. */
function place(el, children) {
  const same = el.children.length === children.length && children.every((c, i) => el.children[i] === c);
  if (!same) el.replaceChildren(...children);
}

/**
 * Fills `body` with `parts`: each piece of parts is shown with `show(el, parts, column)` (text
 * and tool calls, as any answer), in its column (`column` the column's section, for what goes
 * after its text) or outside them (`column` null). `redraw()` is called once the agents'
 * names have loaded.
 */
export function showColumns(body, parts, show, redraw) {
  if (body._mode !== 'columns') {
    body._renderTicket = (body._renderTicket || 0) + 1;
    body.replaceChildren();
    body._parts = null;
    body._steps = null;
    body._mode = 'columns';
    body._cols = new Map();
  }
  const known = agentNames(redraw);
  const kept = body._cols;
  const used = new Set();
  const piece = (key, make) => {
    if (!kept.has(key)) kept.set(key, make());
    used.add(key);
    return kept.get(key);
  };
  const order = sections(parts).map((s, i) => {
    if (s.group === null) {
      const c = piece(`run:${i}`, () => ({ el: h('div', { class: 'answer-run' }) }));
      show(c.el, s.parts, null);
      return c.el;
    }
    const row = piece(`group:${s.group}`, () => ({ el: h('div', { class: 'answer-columns', role: 'group', 'aria-label': 'Answers side by side' }) }));
    const columns = [...s.columns].map(([agent, ps]) => {
      const c = piece(`column:${s.group}:${agent}`, () => {
        const title = h('div', { class: 'answer-column-name' });
        const inner = h('div', { class: 'answer-column-body' });
        return { el: h('section', { class: 'answer-column' }, title, inner), title, inner };
      });
      const name = columnName(agent, known);
      if (c.title.textContent !== name) {
        c.title.textContent = name;
        c.el.setAttribute('aria-label', `Answer from ${name}`);
      }
      show(c.inner, ps, c.el);
      return c.el;
    });
    place(row.el, columns);
    return row.el;
  });
  for (const key of [...kept.keys()]) if (!used.has(key)) kept.delete(key);
  place(body, order);
}

/** Forgets the column layout of `body` (its answer has none after all). */
export function plainColumns(body) {
  if (body._mode === 'columns') {
    body.replaceChildren();
    body._cols = null;
    body._mode = null;
  }
}
