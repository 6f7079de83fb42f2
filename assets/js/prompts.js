// The prompts library: the prompt groups the person can see (`GET /api/prompts/groups`, a page
// at a time), searched by name and filtered by category or by whose they are, and the form
// that writes a new one. Writing is offered only when the role's PROMPTS.CREATE allows it.

import { get, post, query } from './api.js';
import { h, icon, icons, mount, toast } from './dom.js';
import { pager } from './pager.js';
import { href, navigate } from './router.js';
import { permissionsOf } from './roles.js';

const PAGE = 20;

/** LibreChat's filters that are not categories. */
const SCOPES = [
  ['', 'All prompts'],
  ['sys__my__prompts__sys', 'My prompts'],
  ['sys__shared__prompts__sys', 'Shared with me'],
  ['sys__no__category__sys', 'No category'],
];

/** A category's name for people: `teach_or_explain` is "Teach or explain". */
export function categoryLabel(value) {
  if (!value) return '';
  const words = value.replace(/_/g, ' ');
  return words[0].toUpperCase() + words.slice(1);
}

/** `/api/categories` as `[value, label]`; none when they cannot be read. */
export async function categories() {
  const list = await get('api/categories').catch(() => []);
  return list.map((c) => [c.value, categoryLabel(c.value)]);
}

/** The list screen. `q.name` and `q.category` start it filtered. */
export async function promptsScreen(root, q = {}) {
  document.title = 'Prompts';
  const perms = await permissionsOf('PROMPTS');
  if (!perms.USE) return mount(root, h('div', { class: 'prompts-page' }, h('p', { class: 'muted' }, 'Prompts are not available to your account.')));
  const search = h('input', { type: 'search', 'aria-label': 'Search prompts', placeholder: 'Search prompts by name', value: q.name || '' });
  const filter = h('select', { 'aria-label': 'Category' });
  const list = h('ul', { class: 'prompt-list', 'aria-label': 'Prompts' });
  const pages = pager(list, {
    moreLabel: 'More prompts',
    fetchPage: async (cursor) => {
      const page = await get(`api/prompts/groups${query({ pageSize: PAGE, name: search.value.trim(), category: filter.value, cursor })}`);
      return { ...page, items: page.promptGroups.map(item) };
    },
    empty: () => (search.value.trim() || filter.value ? 'No prompts found.' : 'No prompts yet.'),
  });
  mount(root, h('div', { class: 'prompts-page' },
    h('header', { class: 'prompts-head' }, h('h1', {}, 'Prompts'),
      perms.CREATE ? h('a', { class: 'button primary', href: href('prompts/new'), 'data-link': '' }, icon(...icons.plus), 'New prompt') : null),
    h('div', { class: 'row prompts-filters' }, search, filter),
    list, pages.more));
  const cats = await categories();
  filter.replaceChildren(...SCOPES.map(([v, l]) => h('option', { value: v }, l)),
    h('optgroup', { label: 'Categories' }, cats.map(([v, l]) => h('option', { value: v }, l))));
  filter.value = q.category || '';

  pages.reloadOn(search, filter);
  await pages.load();
}

/** One group in the list: its name, command, category and one-line description. */
function item(g) {
  return h('li', { class: 'prompt-item', 'data-id': g._id },
    h('a', { class: 'prompt-link', href: href(`prompts/${encodeURIComponent(g._id)}`), 'data-link': '' },
      h('span', { class: 'prompt-name' }, g.name),
      g.command ? h('code', { class: 'prompt-command' }, `/${g.command}`) : null,
      g.category ? h('span', { class: 'prompt-category muted' }, categoryLabel(g.category)) : null),
    h('p', { class: 'muted prompt-oneliner' }, g.oneliner || g.productionPrompt?.prompt || ''));
}

/** The fields a group has besides its text, as inputs; `g` fills them. */
export function groupFields(cats, g = {}) {
  const name = h('input', { id: 'prompt-name', required: true, maxlength: 255, value: g.name || '' });
  const oneliner = h('input', { id: 'prompt-oneliner', maxlength: 500, value: g.oneliner || '' });
  const category = h('select', { id: 'prompt-category' }, h('option', { value: '' }, 'No category'),
    cats.map(([v, l]) => h('option', { value: v, selected: v === g.category }, l)));
  const command = h('input', { id: 'prompt-command', maxlength: 56, pattern: '[a-z0-9-]*', value: g.command || '', placeholder: 'e.g. summarize' });
  const field = (input, label, hint) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hint ? h('span', { class: 'muted small-print' }, hint) : null);
  return {
    el: [field(name, 'Name'), field(oneliner, 'Short description'), field(category, 'Category'),
      field(command, 'Command', 'Typed after / in the message box: lowercase letters, digits and hyphens.')],
    value: () => ({ name: name.value.trim(), oneliner: oneliner.value.trim(), category: category.value, command: command.value.trim() }),
  };
}

/** The form for a new prompt group with its first version. */
export async function newPromptScreen(root) {
  document.title = 'New prompt';
  const perms = await permissionsOf('PROMPTS');
  if (!perms.CREATE) return mount(root, h('div', { class: 'prompts-page' }, h('p', { class: 'muted' }, 'Your account cannot write prompts.')));
  const fields = groupFields(await categories());
  const text = h('textarea', { id: 'prompt-text', rows: 8, required: true, placeholder: 'The prompt. {{name}} asks for a value when it is used; {{name:a|b}} offers a choice.' });
  const kind = h('select', { id: 'prompt-type' }, h('option', { value: 'text' }, 'Text'), h('option', { value: 'chat' }, 'Chat'));
  const form = h('form', { class: 'prompt-form', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const made = await post('api/prompts', { prompt: { prompt: text.value, type: kind.value }, group: fields.value() });
      toast(`Prompt "${made.group.name}" created`);
      navigate(`prompts/${encodeURIComponent(made.group._id)}`);
    } catch (err) {
      toast(err.message, 'error');
    }
  } },
  fields.el,
  h('div', { class: 'field' }, h('label', { for: 'prompt-text' }, 'Prompt text'), text),
  h('div', { class: 'field' }, h('label', { for: 'prompt-type' }, 'Type'), kind),
  h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Create prompt'),
    h('a', { class: 'button', href: href('prompts'), 'data-link': '' }, 'Cancel')));
  mount(root, h('div', { class: 'prompts-page' }, h('h1', {}, 'New prompt'), form));
  form.querySelector('input')?.focus();
}
