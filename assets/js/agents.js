// The agents screen: the agents the person can see (`GET /api/agents`, a page at a time):
// theirs, those shared with them, or the marketplace by category (`GET
// /api/agents/categories`), searched by name or description. Each opens in the builder
// (agent.js) or starts a chat with it. "New agent" is offered when the role's AGENTS.CREATE
// allows it and the server's builder is on (`endpoints.agents.disableBuilder`).

import { currentUser, get, query } from './api.js';
import { agentAvatar, agentCategories, agentName, categoryName } from './agentcatalog.js';
import { h, icon, icons, mount } from './dom.js';
import { pager } from './pager.js';
import { loadCatalog } from './picker.js';
import { permissionsOf } from './roles.js';
import { href } from './router.js';

const PAGE = 50;
const SCOPES = [['', 'All agents'], ['mine', 'My agents'], ['shared', 'Shared with me']];

/** Whether agents are on here and the role may use them; with whether it may build them. */
export async function agentsAccess() {
  const [cat, perms] = await Promise.all([loadCatalog().catch(() => ({})), permissionsOf('AGENTS')]);
  const on = !!cat.agents && !!perms.USE;
  return { on, build: on && !!perms.CREATE && !cat.agents.disableBuilder, perms, entry: cat.agents };
}

export async function agentsScreen(root, q = {}) {
  document.title = 'Agents';
  const access = await agentsAccess();
  if (!access.on) return mount(root, h('div', { class: 'prompts-page' }, h('p', { class: 'muted' }, 'Agents are not available to your account.')));
  const search = h('input', { type: 'search', 'aria-label': 'Search agents', placeholder: 'Search agents by name or description', value: q.search || '' });
  const scope = h('select', { 'aria-label': 'Whose agents' }, SCOPES.map(([v, l]) => h('option', { value: v }, l)));
  const category = h('select', { 'aria-label': 'Category' }, h('option', { value: '' }, 'All categories'));
  const list = h('ul', { class: 'agent-list', 'aria-label': 'Agents' });
  const pages = pager(list, {
    moreLabel: 'More agents',
    fetchPage: async (cursor) => {
      const c = category.value;
      const params = { limit: PAGE, search: search.value.trim(), cursor };
      if (c === 'promoted') params.promoted = 1;
      else if (c) params.category = c;
      const page = await get(`api/agents${query(params)}`);
      const me = currentUser()?.id;
      const shown = page.data.filter((a) => !scope.value || (scope.value === 'mine') === (a.author === me));
      return { ...page, items: shown.map((a) => item(a, me)) };
    },
    empty: () => (search.value.trim() || scope.value || category.value ? 'No agents found.' : 'No agents yet.'),
  });
  scope.value = q.scope || '';
  mount(root, h('div', { class: 'prompts-page' },
    h('header', { class: 'prompts-head' }, h('h1', {}, 'Agents'),
      access.build ? h('a', { class: 'button primary', href: href('agents/new'), 'data-link': '' }, icon(...icons.plus), 'New agent') : null),
    h('div', { class: 'row prompts-filters' }, search, scope, category),
    list, pages.more));
  const cats = await agentCategories();
  category.append(...cats.map((c) => h('option', { value: c.value }, `${categoryName(c)}${typeof c.count === 'number' ? ` (${c.count})` : ''}`)));
  category.value = q.category || '';

  pages.reloadOn(search, scope, category);
  await pages.load();
}

/** One agent: picture, name, whose it is, category, description, and a way to chat with it. */
function item(a, me) {
  const badges = [
    a.author === me ? 'Yours' : 'Shared with you',
    a.isPublic ? 'Public' : null,
    a.is_promoted ? 'Promoted' : null,
  ].filter(Boolean);
  return h('li', { class: 'agent-item', 'data-id': a.id },
    agentAvatar(a),
    h('div', { class: 'agent-item-text' },
      h('a', { class: 'prompt-link', href: href(`agents/${encodeURIComponent(a.id)}`), 'data-link': '' },
        h('span', { class: 'prompt-name' }, agentName(a)),
        h('span', { class: 'prompt-category muted' }, [categoryName(a.category), ...badges].filter(Boolean).join(' · '))),
      a.description ? h('p', { class: 'muted prompt-oneliner' }, a.description) : null),
    h('a', { class: 'button small', href: href(`c/new?agent_id=${encodeURIComponent(a.id)}`), 'data-link': '', 'aria-label': `Chat with ${agentName(a)}` }, 'Chat'));
}
