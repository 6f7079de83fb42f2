// The composer's `/` picker: `/` at the start of the message lists the prompts the person can
// use (`GET /api/prompts/all`, read again each time it opens), filtered by command and name as
// they type. Up and Down move, Enter or Tab (or a click) choose, Escape closes. The chosen
// prompt's production text takes the message's place, once the variables dialog has asked
// for its `{{variables}}`; then its use is counted (`POST /api/prompts/groups/:id/use`), as
// LibreChat's client counts it.

import { config, currentUser, get, post } from './api.js';
import { h, toast } from './dom.js';
import { askVariables, fillSpecial, hasVariables } from './variables.js';

const MAX_SHOWN = 50;

/** The prompts the person can use, or [] when prompts are off for them. */
async function usable() {
  const c = await config().catch(() => ({}));
  if (c.interface?.prompts === false) return [];
  const all = await get('api/prompts/all').catch(() => []);
  return (Array.isArray(all) ? all : []).filter((g) => g.productionPrompt?.prompt);
}

/** Those of `all` whose command or name holds `q`, those whose command starts with it first. */
export function matching(all, q) {
  const starts = (g) => (g.command || '').startsWith(q);
  return all
    .filter((g) => (g.command || '').includes(q) || g.name.toLowerCase().includes(q))
    .sort((a, b) => starts(b) - starts(a))
    .slice(0, MAX_SHOWN);
}

/**
 * Attaches the picker to the composer's textarea `area`; must be attached before the
 * composer's own Enter handler, which leaves alone a key the picker took. `onText(text)` puts
 * the chosen text in the message.
 */
export function slashPicker(area, { onText }) {
  // A press in the list must not take the focus from the message box (its blur closes the list).
  const list = h('ul', { id: 'slash-list', class: 'slash-list menu', role: 'listbox', 'aria-label': 'Prompts', hidden: true,
    onmousedown: (e) => e.preventDefault() });
  area.setAttribute('aria-controls', 'slash-list');
  area.setAttribute('aria-autocomplete', 'list');
  let loading = null;
  let shown = [];
  let active = 0;
  let ticket = 0;

  const typed = () => area.value.match(/^\/(\S*)$/)?.[1].toLowerCase() ?? null;
  const isOpen = () => !list.hidden;

  async function update() {
    const q = typed();
    if (q === null) return close();
    const mine = ++ticket;
    loading ??= usable();
    const all = await loading;
    if (mine !== ticket || typed() !== q) return;
    shown = matching(all, q);
    active = 0;
    draw();
  }

  function draw() {
    list.replaceChildren(...(shown.length ? shown.map((g, i) => h('li', {
      id: `slash-item-${i}`, role: 'option', class: 'slash-item', 'aria-selected': String(i === active),
      onclick: () => choose(g),
    }, h('strong', {}, g.command ? `/${g.command}` : g.name),
    h('span', { class: 'muted' }, g.command ? g.name : '', g.oneliner ? ` — ${g.oneliner}` : ''))) : [h('li', { class: 'muted slash-empty' }, 'No prompts found.')]));
    list.hidden = false;
    if (shown.length) {
      area.setAttribute('aria-activedescendant', `slash-item-${active}`);
      document.getElementById(`slash-item-${active}`)?.scrollIntoView({ block: 'nearest' });
    } else area.removeAttribute('aria-activedescendant');
  }

  function close() {
    ticket += 1;
    loading = null;
    list.hidden = true;
    area.removeAttribute('aria-activedescendant');
  }

  async function choose(group) {
    close();
    const text = fillSpecial(group.productionPrompt.prompt, currentUser());
    const filled = hasVariables(text) ? await askVariables(group.name, text) : text;
    area.focus();
    if (filled === null) return;
    onText(filled);
    post(`api/prompts/groups/${encodeURIComponent(group._id)}/use`).catch((e) => toast(e.message, 'error'));
  }

  area.addEventListener('input', update);
  area.addEventListener('blur', close);
  area.addEventListener('keydown', (e) => {
    if (!isOpen() || e.isComposing) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!shown.length) return;
      active = (active + (e.key === 'ArrowDown' ? 1 : shown.length - 1)) % shown.length;
      draw();
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      e.preventDefault();
      if (shown.length) choose(shown[active]);
      else close();
    } else if (e.key === 'Escape') {
      // Closes the list only: the app's Escape (stop the answer) is not meant.
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  });
  return { el: list };
}
