// The composer's tool toggles for a plain chat (not an agent's): LibreChat's `ephemeralAgent`
// switches (web search, file search, running code) for the capabilities the server reports
// in `endpoints.agents.capabilities` and has a tool for, and the tools it lists (the
// calculator), which go with the conversation as its `tools`. Hidden when there are none, and
// while an agent is chosen (an agent brings its own tools). Web and file search have no tool
// in the list: they show, as in LibreChat's client, when the person's role may use them
// (WEB_SEARCH.USE, FILE_SEARCH.USE), web search only once it has a search provider (the
// server's `webSearch` in `/api/config`, or the person's own key).

import { config, get } from './api.js';
import { h, mount } from './dom.js';
import { AGENTS, loadCatalog } from './picker.js';
import { permissionsOf } from './roles.js';
import { availableTools, toolName } from './tools.js';

/** The `ephemeralAgent` switches, by LibreChat's names. */
const SWITCHES = [['web_search', 'Web search'], ['file_search', 'File search'], ['execute_code', 'Run code']];

/** `web_search` and `file_search`, when the person may use them (see the top). */
async function usableSearches(caps) {
  const out = [];
  if (caps.includes('file_search') && (await permissionsOf('FILE_SEARCH')).USE) out.push('file_search');
  if (caps.includes('web_search') && (await permissionsOf('WEB_SEARCH')).USE) {
    const set = (await config().catch(() => null))?.webSearch
      || (await get('api/agents/tools/web_search/auth').catch(() => null))?.authenticated;
    if (set) out.push('web_search');
  }
  return out;
}

/**
 * The toggles for `state` (the chat's `{endpoint, params, ephemeral}`, changed in place:
 * `params.tools` and `ephemeral`); `onChange()` after each change.
 */
export function toolToggles(state, onChange) {
  const el = h('div', { class: 'tool-toggles', role: 'group', 'aria-label': 'Tools', hidden: true });
  state.ephemeral ??= {};
  let offered = [];

  loadCatalog().then(async (cat) => {
    if (!cat.agents) return;
    const caps = cat.agents.capabilities || [];
    const [tools, searches] = await Promise.all([availableTools(caps), usableSearches(caps)]);
    const has = new Set([...tools.map((t) => t.pluginKey), ...searches]);
    const switches = SWITCHES.filter(([key]) => caps.includes(key) && has.has(key));
    offered = [
      ...switches.map(([key, label]) => ({ key, label, ephemeral: true })),
      ...(caps.includes('tools') ? tools.filter((t) => !SWITCHES.some(([k]) => k === t.pluginKey))
        .map((t) => ({ key: t.pluginKey, label: toolName(t), title: t.description })) : []),
    ];
    sync();
  }).catch(() => {});

  const isOn = (t) => (t.ephemeral ? !!state.ephemeral[t.key] : (state.params.tools || []).includes(t.key));

  function toggle(t, on) {
    if (t.ephemeral) state.ephemeral[t.key] = on;
    else {
      const rest = (state.params.tools || []).filter((k) => k !== t.key);
      state.params.tools = on ? [...rest, t.key] : rest;
    }
    onChange?.();
  }

  function sync() {
    el.hidden = !offered.length || state.endpoint === AGENTS;
    mount(el, offered.map((t) => {
      const box = h('input', { type: 'checkbox', checked: isOn(t), onchange: () => toggle(t, box.checked) });
      return h('label', { class: 'tool-toggle', title: t.title || null }, box, t.label);
    }));
  }

  return {
    el,
    sync,
    /** Whether the file search switch is shown and on: attached documents go to file search. */
    fileSearch: () => state.endpoint !== AGENTS && !!state.ephemeral.file_search
      && offered.some((t) => t.key === 'file_search'),
    /** The switches to send with a message (LibreChat's `ephemeralAgent`); null for none. */
    ephemeral() {
      const on = offered.filter((t) => t.ephemeral);
      if (!on.length || state.endpoint === AGENTS) return null;
      return Object.fromEntries(on.map((t) => [t.key, !!state.ephemeral[t.key]]));
    },
  };
}
