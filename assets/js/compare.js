// "Compare": a second model (or agent) that answers each message beside the one picked, as
// LibreChat's multi-conversation does. The choice goes with each message as `addedConvo`
// (the second conversation's endpoint and model, or the agent's id); the server runs both at
// once and the answer shows them in columns (columns.js). Offered when the configuration's
// `interface.multiConvo` is on; a role without `MULTI_CONVO` gets the server's refusal.

import { agentName, usableAgents } from './agentcatalog.js';
import { config } from './api.js';
import { h, iconButton } from './dom.js';
import { AGENTS, loadCatalog } from './picker.js';

/** The control: `{el, added()}`; `added()` is the body's `addedConvo`, or null. */
export function compare() {
  const start = h('button', { type: 'button', class: 'chip', hidden: true }, 'Compare');
  const select = h('select', { class: 'model-select', 'aria-label': 'Second model' });
  const chosen = h('span', { class: 'compare-chosen', hidden: true }, h('span', { class: 'muted' }, '+'), select,
    iconButton('close', 'Stop comparing', () => stop()));
  let filled = false;

  config().then((c) => { start.hidden = c.interface?.multiConvo === false; }).catch(() => {});

  async function fill() {
    if (filled) return;
    filled = true;
    const cat = await loadCatalog().catch(() => ({ endpoints: [], models: {}, agents: null }));
    const agents = cat.agents ? await usableAgents() : [];
    if (agents.length) {
      select.append(h('optgroup', { label: 'Agents' },
        agents.map((a) => h('option', { value: `${AGENTS}\u0000${a.id}` }, agentName(a)))));
    }
    for (const [name, info] of cat.endpoints) {
      select.append(h('optgroup', { label: info?.modelDisplayLabel || name },
        (cat.models[name] || []).map((m) => h('option', { value: `${name}\u0000${m}` }, m))));
    }
    // The first model, not an agent, unless there is nothing else.
    const firstModel = [...select.options].find((o) => !o.value.startsWith(`${AGENTS}\u0000`));
    if (firstModel) select.value = firstModel.value;
  }

  start.addEventListener('click', async () => {
    await fill();
    start.hidden = true;
    chosen.hidden = false;
    select.focus();
  });

  function stop() {
    chosen.hidden = true;
    start.hidden = false;
    start.focus();
  }

  return {
    el: h('span', { class: 'compare' }, start, chosen),
    added() {
      if (chosen.hidden || !select.value) return null;
      const [endpoint, which] = select.value.split('\u0000');
      return endpoint === AGENTS ? { endpoint, agent_id: which } : { endpoint, model: which };
    },
  };
}
