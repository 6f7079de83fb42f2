// The composer's MCP menu for a plain chat (not an agent's, which brings its own tools): the
// MCP servers of the chat menu (`chatMenu` not false) with the state of each connection; the
// ones chosen go with each message as LibreChat's client sends them (`ephemeralAgent.mcp:
// [names]`), and are remembered for the conversation in this browser. Each server can be
// connected again ("Reconnect", or "Connect" with a sign-in), one with variables of its own
// (`customUserVars`) opens their dialog, a role with `MCP_SERVERS.CREATE` can add a server, and
// a server the person added can be deleted by them.
// Hidden when the role may not use MCP servers, or there are none and it may not add one.

import { config } from './api.js';
import { h, mount, toast } from './dom.js';
import { connectionStates, deletable, deleteServer, listServers, mcpPermissions, stateLabel, storeChoice, storedChoice, titleOf } from './mcp.js';
import { AGENTS } from './picker.js';

/** The dialogs and the sign-in flow, loaded when first used. */
const forms = () => import('./mcpforms.js');

/** The menu for `state` (the chat's `{endpoint, ...}`); `convoId()` names the conversation. */
export function mcpMenu(state, convoId) {
  let servers = [];
  let states = {};
  let canAdd = false;
  /** The names of the servers the person may delete (their own). */
  let removable = new Set();
  let chosen = storedChoice(null);
  /** The provider's sign-in page of each server whose sign-in is under way. */
  const signIns = {};
  const count = h('span', { class: 'mcp-count' });
  const button = h('button', { type: 'button', class: 'tool-toggle mcp-button', 'aria-expanded': 'false', 'aria-haspopup': 'true',
    onclick: () => (panel.hidden ? open() : close()) }, h('span', { class: 'mcp-label' }, 'MCP servers'), count);
  const list = h('ul', { class: 'mcp-list' });
  const panel = h('div', { class: 'mcp-panel', role: 'group', 'aria-label': 'MCP servers', hidden: true }, list);
  const el = h('div', { class: 'mcp-menu', hidden: true }, button, panel);

  el.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !panel.hidden) {
      e.stopPropagation();
      close();
      button.focus();
    }
  });
  document.addEventListener('click', (e) => {
    if (!panel.hidden && !el.contains(e.target) && !e.target.closest?.('dialog')) close();
  });

  async function load() {
    const [perms, listed, c] = await Promise.all([mcpPermissions(), listServers({ menu: true }), config().catch(() => null)]);
    // The menu's name from librechat.yaml (`interface.mcpServers.placeholder`), as LibreChat's.
    const placeholder = c?.interface?.mcpServers?.placeholder;
    if (typeof placeholder === 'string' && placeholder.trim()) button.querySelector('.mcp-label').textContent = placeholder.trim();
    canAdd = !!perms.USE && !!perms.CREATE;
    servers = listed;
    chosen = chosen.filter((n) => servers.some((s) => s.name === n));
    if (servers.length) [states, removable] = await Promise.all([connectionStates().then((c) => c.states), deletable(servers)]);
    sync();
  }

  async function refreshStates() {
    states = (await connectionStates()).states;
    draw();
  }

  function open() {
    panel.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    draw();
    refreshStates();
  }

  function close() {
    panel.hidden = true;
    button.setAttribute('aria-expanded', 'false');
  }

  function setChosen(names) {
    chosen = names;
    storeChoice(convoId(), chosen);
    count.textContent = chosen.length ? ` (${chosen.length})` : '';
    button.classList.toggle('on', chosen.length > 0);
  }

  function row(s) {
    const st = states[s.name];
    const label = stateLabel(st);
    const box = h('input', { type: 'checkbox', checked: chosen.includes(s.name),
      onchange: () => setChosen(box.checked ? [...chosen.filter((n) => n !== s.name), s.name] : chosen.filter((n) => n !== s.name)) });
    const needsSignIn = !!(st?.requiresOAuth || s.config.requiresOAuth) && st?.connectionState !== 'connected';
    const hasVars = !!s.config.customUserVars && Object.keys(s.config.customUserVars).length > 0;
    const busy = (b, text) => async (f) => {
      b.disabled = true;
      b.textContent = text;
      try {
        await f();
      } finally {
        await refreshStates();
      }
    };
    const connectTo = async () => (await forms()).connect(s, (url) => link(s.name, url));
    const act = (text, doing, aria, f) => {
      const b = h('button', { type: 'button', class: 'small', 'aria-label': `${aria} ${titleOf(s)}`, onclick: () => busy(b, doing)(f) }, text);
      return b;
    };
    return h('li', { class: 'mcp-server', dataset: { server: s.name, state: st?.connectionState || 'unknown' } },
      h('label', { class: 'mcp-choose', title: s.config.description || null }, box, h('span', { class: 'mcp-title' }, titleOf(s))),
      h('span', { class: 'mcp-state', 'aria-label': `${titleOf(s)}: ${label}` }, h('span', { class: 'mcp-dot', 'aria-hidden': 'true' }), label),
      h('span', { class: 'mcp-actions' },
        hasVars ? h('button', { type: 'button', class: 'small', 'aria-label': `Your values for ${titleOf(s)}`,
          onclick: async () => (await forms()).variablesDialog(s, refreshStates) }, 'Values') : null,
        needsSignIn ? act('Connect', 'Connecting…', 'Connect', connectTo)
          : act('Reconnect', 'Reconnecting…', 'Reconnect', connectTo),
        removable.has(s.name) ? h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete ${titleOf(s)}`,
          onclick: () => remove(s) }, 'Delete') : null,
        signIns[s.name] ? h('a', { class: 'small', href: signIns[s.name], target: '_blank', rel: 'noopener noreferrer' }, 'Open the sign-in page') : null));
  }

  /** Deletes a server the person added, once they confirm; it leaves the list and the choice. */
  async function remove(s) {
    if (!confirm(`Delete the MCP server "${titleOf(s)}"? Its tools are gone for everyone it was shared with.`)) return;
    try {
      await deleteServer(s.name);
      setChosen(chosen.filter((n) => n !== s.name));
      toast(`Deleted ${titleOf(s)}.`);
    } catch (e) {
      toast(e.message, 'error');
    }
    await load();
  }

  function link(name, url) {
    if (url) signIns[name] = url;
    else delete signIns[name];
    if (!panel.hidden) draw();
  }

  function draw() {
    mount(list, servers.map(row),
      servers.length ? null : h('li', { class: 'muted' }, 'No MCP servers yet.'),
      canAdd ? h('li', { class: 'mcp-add-row' }, h('button', { type: 'button', class: 'small', onclick: async () => (await forms()).addServerDialog(() => load()) }, 'Add an MCP server')) : null);
  }

  function sync() {
    el.hidden = state.endpoint === AGENTS || (!servers.length && !canAdd);
    setChosen(chosen);
    if (!panel.hidden) draw();
  }

  load().catch(() => {});

  return {
    el,
    sync,
    /** An opened conversation: its remembered choice. */
    restore(conversationId) {
      chosen = storedChoice(conversationId).filter((n) => !servers.length || servers.some((s) => s.name === n));
      sync();
    },
    /** The conversation got its id: the choice is remembered under it. */
    remember: () => storeChoice(convoId(), chosen),
    /** The servers to send with a message; none for an agent. */
    chosen: () => (state.endpoint === AGENTS ? [] : chosen.filter((n) => servers.some((s) => s.name === n))),
  };
}
