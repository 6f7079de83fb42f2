// What the next message goes to: the endpoint and model (from `/api/endpoints` and
// `/api/models`) or an agent (endpoint `agents` with its `agent_id`), a preset, and the
// parameters (system prompt, temperature, answer length, artifacts).

import { agentName, usableAgents } from './agentcatalog.js';
import { config, get, post } from './api.js';
import { h, toast } from './dom.js';

/** The endpoint an agent is chatted with. */
export const AGENTS = 'agents';

let catalog = null;

/**
 * `{endpoints: [[name, info]], models: {name: [model]}, agents}`, loaded once: `agents` is the
 * `agents` entry (capabilities, builder switch), null when agents are off. One promise for
 * every caller, so callbacks run in the order they were added (the picker's choice comes first).
 */
export function loadCatalog() {
  catalog ??= Promise.all([get('api/endpoints'), get('api/models')]).then(([endpoints, models]) => {
    const list = Object.entries(endpoints || {})
      .filter(([name]) => (models?.[name] || []).length)
      .sort((a, b) => (a[1]?.order ?? 99) - (b[1]?.order ?? 99));
    return { endpoints: list, models: models || {}, agents: endpoints?.agents || null };
  }).catch((e) => {
    catalog = null;
    throw e;
  });
  return catalog;
}

const PARAMS = [
  ['promptPrefix', 'System prompt', 'textarea'],
  ['temperature', 'Temperature', 'number', { min: 0, max: 2, step: 0.1 }],
  ['max_tokens', 'Max answer tokens', 'number', { min: 1, step: 1 }],
  // LibreChat's artifact modes: the instructions that make the model write artifacts.
  ['artifacts', 'Artifacts', 'select', { options: [['', 'Off'], ['default', 'On'], ['shadcnui', 'On, with shadcn/ui components'], ['custom', 'Custom (my own instructions)']] }],
];

/**
 * The picker. `state` is `{endpoint, model, params}` and is changed in place (an agent's id
 * is `params.agent_id`); `onChange()` is called after each change, and when the agents have
 * loaded while one is chosen.
 */
export function picker(state, onChange) {
  const select = h('select', { class: 'model-select', 'aria-label': 'Model' });
  const presetsBtn = h('button', { type: 'button', class: 'chip', 'aria-haspopup': 'true', 'aria-expanded': 'false' }, 'Presets');
  const paramsBtn = h('button', { type: 'button', class: 'chip', 'aria-expanded': 'false', 'aria-controls': 'params-panel' }, 'Parameters');
  const panel = h('div', { id: 'params-panel', class: 'params-panel', hidden: true });
  const presetMenu = h('div', { class: 'menu presets-menu', role: 'menu', hidden: true });
  let paramsOff = false;
  let agents = [];

  config().then((c) => {
    const ui = c.interface || {};
    presetsBtn.hidden = ui.presets === false;
    paramsOff = ui.parameters === false;
    paramsBtn.hidden = paramsOff || state.endpoint === AGENTS;
  }).catch(() => {});

  loadCatalog().then((cat) => {
    const { endpoints, models } = cat;
    for (const [name, info] of endpoints) {
      const group = h('optgroup', { label: info?.modelDisplayLabel || name });
      for (const model of models[name]) group.append(h('option', { value: `${name}\u0000${model}` }, model));
      select.append(group);
    }
    const chosen = state.endpoint === AGENTS ? !!state.params.agent_id : !!state.endpoint && !!models[state.endpoint];
    if (!chosen) {
      const [first] = endpoints;
      if (first) {
        state.endpoint = first[0];
        state.model = models[first[0]][0];
      }
    }
    sync();
    if (cat.agents) loadAgents();
  }).catch((e) => toast(`Cannot load the models: ${e.message}`, 'error'));

  /** The agents go first, as in LibreChat's picker. */
  async function loadAgents() {
    agents = await usableAgents();
    if (!agents.length) return;
    select.prepend(h('optgroup', { label: 'Agents' },
      agents.map((a) => h('option', { value: `${AGENTS}\u0000${a.id}` }, agentName(a)))));
    sync();
    if (state.endpoint === AGENTS) onChange();
  }

  select.addEventListener('change', () => {
    const [endpoint, which] = select.value.split('\u0000');
    state.endpoint = endpoint;
    if (endpoint === AGENTS) {
      state.model = null;
      state.params.agent_id = which;
    } else {
      state.model = which;
      delete state.params.agent_id;
    }
    paramsBtn.hidden = paramsOff || endpoint === AGENTS;
    if (endpoint === AGENTS) panel.hidden = true;
    onChange();
  });

  function sync() {
    const isAgent = state.endpoint === AGENTS;
    const v = `${state.endpoint}\u0000${isAgent ? state.params.agent_id : state.model}`;
    // A stand-in added before the lists loaded goes once the real choice is there.
    for (const o of select.querySelectorAll('option[data-stand-in]')) {
      if ([...select.options].some((x) => x !== o && x.value === o.value)) o.remove();
    }
    if ([...select.options].some((o) => o.value === v)) select.value = v;
    else if (isAgent ? state.params.agent_id : state.model) {
      select.append(h('option', { value: v, 'data-stand-in': '' }, isAgent ? 'Agent' : state.model));
      select.value = v;
    }
    paramsBtn.hidden = paramsOff || isAgent;
    panel.replaceChildren(...PARAMS.map(([key, label, type, extra]) => {
      const id = `param-${key}`;
      const value = state.params[key] ?? '';
      const input = type === 'textarea' ? h('textarea', { id, rows: 3 })
        : type === 'select' ? h('select', { id }, extra.options.map(([v, text]) => h('option', { value: v }, text)))
          : h('input', { id, type, ...extra });
      input.value = value;
      input.addEventListener('change', () => {
        const raw = input.value.trim();
        // A choice is sent even when it is "off", so that the conversation's setting changes.
        if (type === 'select') state.params[key] = raw;
        else if (!raw) delete state.params[key];
        else state.params[key] = type === 'number' ? Number(raw) : input.value;
        onChange();
      });
      return h('div', { class: 'field' }, h('label', { for: id }, label), input);
    }), h('button', { type: 'button', class: 'chip', onclick: savePreset }, 'Save as preset'));
  }

  /** The chosen agent, as listed (name, picture, starters); null for a model or one not listed. */
  const agent = () => (state.endpoint === AGENTS ? agents.find((a) => a.id === state.params.agent_id) || null : null);

  async function savePreset() {
    const title = prompt('Name this preset');
    if (!title) return;
    try {
      await post('api/presets', { title, endpoint: state.endpoint, model: state.model, ...state.params });
      toast('Preset saved');
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  paramsBtn.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    paramsBtn.setAttribute('aria-expanded', String(!panel.hidden));
  });
  presetsBtn.addEventListener('click', async () => {
    if (!presetMenu.hidden) {
      presetMenu.hidden = true;
      presetsBtn.setAttribute('aria-expanded', 'false');
      return;
    }
    let presets = [];
    try {
      presets = await get('api/presets');
    } catch (e) {
      toast(e.message, 'error');
    }
    presetMenu.replaceChildren(...(presets.length ? presets.map((p) => h('button', {
      type: 'button', role: 'menuitem',
      onclick: () => {
        const { title, presetId, user, createdAt, updatedAt, defaultPreset, order, endpoint, model, ...params } = p;
        if (endpoint) state.endpoint = endpoint;
        if (model) state.model = model;
        const kept = (k) => PARAMS.some(([n]) => n === k) || k === 'tools' || (k === 'agent_id' && endpoint === AGENTS);
        state.params = Object.fromEntries(Object.entries(params).filter(([k]) => kept(k)));
        presetMenu.hidden = true;
        sync();
        onChange();
      },
    }, p.title || 'Untitled preset')) : [h('p', { class: 'muted' }, 'No presets yet.')]));
    presetMenu.hidden = false;
    presetsBtn.setAttribute('aria-expanded', 'true');
  });

  return { el: h('div', { class: 'picker' }, select, h('div', { class: 'menu-anchor' }, presetsBtn, presetMenu), paramsBtn), panel, sync, agent };
}
