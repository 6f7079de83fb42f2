// The agent builder's Actions: web APIs an OpenAPI document describes, whose operations the
// agent's model may call. Listed from `GET /api/agents/actions` (those of this agent), each
// with its domain and its operations: the agent's `actions` pair an action with its encoded
// domain (`<domain>_action_<action id>`), its `tools` name each operation on that domain
// (`<operation>_action_<domain>`), as LibreChat's builder reads them. Added and edited in a
// dialog (actionform.js); deleted with `DELETE /api/agents/actions/:agent_id/:action_id`.
// Each change is saved at once, apart from the agent's form, and makes a version.

import { del, get } from './api.js';
import { actionDialog } from './actionform.js';
import { h, mount, toast } from './dom.js';

/** LibreChat's `actionDelimiter`. */
const DELIMITER = '_action_';

/** The operation names `agent`'s tools hold for the action `actionId`. */
export function operationsOf(agent, actionId) {
  const entry = (agent.actions || []).find((a) => a.endsWith(`${DELIMITER}${actionId}`));
  if (!entry) return [];
  const suffix = `${DELIMITER}${entry.slice(0, -(DELIMITER.length + actionId.length))}`;
  return (agent.tools || []).filter((t) => t.endsWith(suffix)).map((t) => t.slice(0, -suffix.length));
}

/**
 * The section for `agent` (the builder's copy, whose `tools` and `actions` it keeps up to
 * date); `onChange()` runs after each save or delete.
 */
export function actionsSection(agent, onChange) {
  let actions = [];
  const list = h('ul', { class: 'plain-list action-list', 'aria-label': 'The agent\'s actions' }, h('li', { class: 'muted' }, 'Loading…'));
  const add = h('button', { type: 'button', onclick: () => open(null) }, 'Add action');

  const took = (fresh) => {
    agent.tools = fresh.tools;
    agent.actions = fresh.actions;
    agent.version = fresh.version;
    onChange();
  };
  const open = (action) => actionDialog(agent, action, ([fresh, saved]) => {
    took(fresh);
    actions = [...actions.filter((a) => a.action_id !== saved.action_id), saved];
    draw();
    const ops = operationsOf(agent, saved.action_id);
    toast(`Action saved: ${ops.length} operation${ops.length === 1 ? '' : 's'} (${ops.join(', ')})`);
  });
  const remove = async (action) => {
    const domain = action.metadata?.domain || 'this domain';
    if (!confirm(`Delete the action on ${domain}? The agent can no longer call its operations.`)) return;
    try {
      await del(`api/agents/actions/${encodeURIComponent(agent.id)}/${encodeURIComponent(action.action_id)}`);
      took(await get(`api/agents/${encodeURIComponent(agent.id)}/expanded`));
      actions = actions.filter((a) => a.action_id !== action.action_id);
      draw();
      toast(`The action on ${domain} was deleted`);
    } catch (e) {
      toast(e.message, 'error');
    }
  };

  function draw() {
    mount(list, actions.length ? actions.map((a) => {
      const domain = a.metadata?.domain || '(no domain)';
      const ops = operationsOf(agent, a.action_id);
      return h('li', { class: 'action-item', 'data-action-id': a.action_id },
        h('div', { class: 'action-text' }, h('strong', {}, domain),
          h('span', { class: 'muted small-print' }, [authLabel(a.metadata?.auth), ops.length ? ops.join(', ') : 'No operations'].join(' · '))),
        h('button', { type: 'button', class: 'small', 'aria-label': `Edit the action on ${domain}`, onclick: () => open(a) }, 'Edit'),
        h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete the action on ${domain}`, onclick: () => remove(a) }, 'Delete'));
    }) : h('li', { class: 'muted' }, 'No actions yet.'));
  }

  get('api/agents/actions').then((all) => {
    actions = all.filter((a) => a.agent_id === agent.id);
    draw();
  }).catch((e) => mount(list, h('li', { class: 'form-error', role: 'alert' }, e.message)));

  return h('section', { class: 'agent-actions', 'aria-label': 'Actions' }, h('h2', {}, 'Actions'),
    h('p', { class: 'muted small-print' }, 'Web APIs the agent may call, each described by an OpenAPI document. Saved at once, apart from the form above.'),
    list, h('div', { class: 'row' }, add));
}

/** How an action authenticates, in a few words. */
function authLabel(auth) {
  if (auth?.type === 'service_http') return 'API key';
  if (auth?.type === 'oauth') return 'OAuth';
  return 'No authentication';
}
