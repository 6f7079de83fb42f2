// The tools this server offers agents and chats: `GET /api/agents/tools` (LibreChat's list of
// plugins, `{name, pluginKey, description}`); where the server has no such list, its built-in
// calculator, when `endpoints.agents.capabilities` lets agents use tools at all.

import { get } from './api.js';

/** What the server had before it listed its tools: the calculator. */
const BUILT_IN = [{
  name: 'Calculator',
  pluginKey: 'calculator',
  description: 'Evaluates math expressions: arithmetic, powers, roots, logarithms, trigonometry.',
}];

let tools = null;

/** The tools offered, loaded once a session; `capabilities` are the agents entry's. */
export function availableTools(capabilities = []) {
  tools ??= get('api/agents/tools').then((list) => {
    if (!Array.isArray(list)) throw new Error('not a list');
    return list.filter((t) => t && typeof t.pluginKey === 'string' && t.pluginKey);
  }).catch(() => null);
  return tools.then((list) => list ?? (capabilities.includes('tools') ? BUILT_IN : []));
}

/** A tool's name for people. */
export const toolName = (t) => t.name || t.pluginKey;
