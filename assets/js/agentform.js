// The agent builder's form: what a person writes of an agent (LibreChat's `Agent` fields):
// name, description, instructions, the model it runs on (the endpoints and models the server
// offers, within `allowedProviders`), its model parameters, tools (what the server offers),
// conversation starters, category, recursion limit and artifacts. `value()` reads it back as
// the body of `POST /api/agents` or `PATCH /api/agents/:id`; what the form does not show
// (other parameters, tools the server no longer lists) is kept as it was.

import { agentCategories, categoryName } from './agentcatalog.js';
import { h } from './dom.js';
import { loadCatalog } from './picker.js';
import { availableTools, toolName } from './tools.js';
import { mcpTools } from './mcp.js';

/** LibreChat's builder offers four starters. */
const MAX_STARTERS = 4;

/** The model parameters the form shows: key, label, input attributes. */
const PARAMS = [
  ['temperature', 'Temperature', { min: 0, max: 2, step: 0.1 }],
  ['top_p', 'Top P', { min: 0, max: 1, step: 0.01 }],
  ['max_tokens', 'Max answer tokens', { min: 1, step: 1 }],
];

const ARTIFACTS = [['', 'Off'], ['default', 'On'], ['shadcnui', 'On, with shadcn/ui components'], ['custom', 'Custom (my own instructions)']];

const field = (input, label, hint) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input,
  hint ? h('span', { class: 'muted small-print' }, hint) : null);

/** The model choices: `provider\0model` in a group per endpoint. */
async function modelSelect(agent, entry) {
  const select = h('select', { id: 'agent-model', required: true });
  const { endpoints, models } = await loadCatalog();
  const allowed = entry?.allowedProviders;
  for (const [name, info] of endpoints) {
    if (Array.isArray(allowed) && !allowed.includes(name)) continue;
    select.append(h('optgroup', { label: info?.modelDisplayLabel || name },
      models[name].map((m) => h('option', { value: `${name}\u0000${m}` }, m))));
  }
  if (agent.provider && agent.model) {
    const v = `${agent.provider}\u0000${agent.model}`;
    if (![...select.options].some((o) => o.value === v)) select.append(h('option', { value: v }, `${agent.model} (${agent.provider})`));
    select.value = v;
  }
  return select;
}

/** The starters: one box each, up to four; empty ones are left out. */
function startersField(list) {
  const box = h('div', { class: 'starters-edit' });
  const add = h('button', { type: 'button', class: 'small', onclick: () => { row(''); sync(); box.querySelector('li:last-child input')?.focus(); } }, 'Add a starter');
  const ol = h('ol', { class: 'plain-list starter-list' });
  const sync = () => {
    const rows = [...ol.children];
    rows.forEach((li, i) => {
      li.querySelector('input').setAttribute('aria-label', `Conversation starter ${i + 1}`);
      li.querySelector('button').setAttribute('aria-label', `Remove conversation starter ${i + 1}`);
    });
    add.hidden = rows.length >= MAX_STARTERS;
  };
  const row = (text) => {
    const input = h('input', { type: 'text', maxlength: 2000, value: text, placeholder: 'e.g. What can you help me with?' });
    const li = h('li', {}, input, h('button', { type: 'button', class: 'small', onclick: () => { li.remove(); sync(); } }, 'Remove'));
    ol.append(li);
  };
  for (const s of list.slice(0, MAX_STARTERS)) row(s);
  sync();
  box.append(ol, add);
  return {
    el: h('fieldset', { class: 'agent-fieldset' }, h('legend', {}, 'Conversation starters'), box),
    value: () => [...ol.querySelectorAll('input')].map((i) => i.value.trim()).filter(Boolean),
  };
}

/**
 * The tools the server offers, as checkboxes, with the MCP servers' tools (`GET /api/mcp/tools`,
 * named with their server); tools the agent has that are not offered stay.
 */
async function toolsField(agent, capabilities) {
  const [builtIn, mcp] = capabilities.includes('tools') ? await Promise.all([availableTools(capabilities), mcpTools()]) : [[], []];
  const offered = [...builtIn, ...mcp.map((t) => ({ ...t, name: `${t.name} (MCP: ${t.server})` }))];
  const had = new Set(agent.tools || []);
  const boxes = offered.map((t) => ({ key: t.pluginKey, box: h('input', { type: 'checkbox', checked: had.has(t.pluginKey) }), tool: t }));
  const el = h('fieldset', { class: 'agent-fieldset' }, h('legend', {}, 'Tools'),
    boxes.length ? boxes.map(({ box, tool }) => h('label', { class: 'radio', title: tool.description || null }, box,
      h('span', {}, toolName(tool), tool.description ? h('span', { class: 'muted small-print' }, ` ${tool.description}`) : null)))
      : h('p', { class: 'muted' }, 'This server offers no tools to agents.'));
  return {
    el,
    value: () => [...(agent.tools || []).filter((k) => !boxes.some((b) => b.key === k)),
      ...boxes.filter((b) => b.box.checked).map((b) => b.key)],
  };
}

/**
 * The agent's memory (while the `memory` capability is on): whether it has the memory tools
 * itself (LibreChat's `memory` entry in its tools: it saves or forgets when asked), and whose
 * memories it reads and writes (`memory_scope`): the person's, shared with their other chats,
 * or its own, kept apart.
 */
function memoryField(agent) {
  const tools = h('input', { type: 'checkbox', checked: (agent.tools || []).includes('memory') });
  const scope = h('select', { id: 'agent-memory-scope' },
    [['user', 'The person\'s, shared with their other chats'], ['agent', 'Its own, kept apart']]
      .map(([v, l]) => h('option', { value: v, selected: v === (agent.memory_scope || 'user') }, l)));
  const el = h('fieldset', { class: 'agent-fieldset' }, h('legend', {}, 'Memory'),
    h('label', { class: 'radio' }, tools, h('span', {}, 'Saves or forgets memories when asked')),
    field(scope, 'Whose memories it uses'));
  return {
    el,
    apply(body) {
      body.tools = body.tools.filter((t) => t !== 'memory');
      if (tools.checked) body.tools.push('memory');
      body.memory_scope = scope.value;
    },
  };
}

/**
 * The form for `agent` (`{}` for a new one). `entry` is the `agents` entry of
 * `/api/endpoints` (capabilities, allowed providers).
 */
export async function agentForm(agent, entry) {
  const caps = entry?.capabilities || [];
  const [model, tools, cats] = await Promise.all([modelSelect(agent, entry), toolsField(agent, caps), agentCategories()]);
  const name = h('input', { id: 'agent-name', maxlength: 256, value: agent.name || '', placeholder: 'e.g. Maths tutor' });
  const description = h('textarea', { id: 'agent-description', rows: 2, maxlength: 10000 }, agent.description || '');
  const instructions = h('textarea', { id: 'agent-instructions', rows: 6 }, agent.instructions || '');
  const params = agent.model_parameters || {};
  const inputs = PARAMS.map(([key, label, attrs]) => {
    const input = h('input', { id: `agent-param-${key}`, type: 'number', ...attrs, value: params[key] ?? '' });
    return { key, label, input };
  });
  const category = h('select', { id: 'agent-category' },
    cats.filter((c) => c.value !== 'promoted').map((c) => h('option', { value: c.value, selected: c.value === (agent.category || 'general') }, categoryName(c))));
  if (agent.category && ![...category.options].some((o) => o.value === agent.category)) {
    category.append(h('option', { value: agent.category, selected: true }, categoryName(agent.category)));
  }
  const recursion = h('input', { id: 'agent-recursion', type: 'number', min: 1, max: 10000, step: 1, value: agent.recursion_limit ?? '', placeholder: 'The server\'s default' });
  const artifacts = caps.includes('artifacts')
    ? h('select', { id: 'agent-artifacts' }, ARTIFACTS.map(([v, l]) => h('option', { value: v, selected: v === (agent.artifacts || '') }, l)))
    : null;
  const starters = startersField(agent.conversation_starters || []);
  const memory = caps.includes('memory') ? memoryField(agent) : null;

  const el = [
    field(name, 'Name'),
    field(description, 'Description'),
    field(instructions, 'Instructions', 'What the agent is told before every chat. {{current_user}}, {{current_date}} and the other variables of prompts are filled in.'),
    field(model, 'Model'),
    h('fieldset', { class: 'agent-fieldset agent-params' }, h('legend', {}, 'Model parameters'),
      inputs.map(({ input, label }) => field(input, label))),
    tools.el,
    starters.el,
    field(category, 'Category'),
    field(recursion, 'Recursion limit', 'The most steps (model answers and tool calls) one answer may take.'),
    artifacts ? field(artifacts, 'Artifacts') : null,
    memory?.el,
  ];

  return {
    el,
    focus: () => name.focus(),
    value() {
      const [provider, modelName] = model.value.split('\u0000');
      const modelParameters = { ...params };
      for (const { key, input } of inputs) {
        if (input.value.trim() === '') delete modelParameters[key];
        else modelParameters[key] = Number(input.value);
      }
      const body = {
        name: name.value.trim(),
        description: description.value,
        instructions: instructions.value,
        provider,
        model: modelName,
        model_parameters: modelParameters,
        tools: tools.value(),
        conversation_starters: starters.value(),
        category: category.value || 'general',
      };
      if (recursion.value.trim()) body.recursion_limit = Number(recursion.value);
      if (artifacts) body.artifacts = artifacts.value;
      if (memory) memory.apply(body);
      return body;
    },
  };
}
