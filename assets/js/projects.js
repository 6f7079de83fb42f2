// Projects in the sidebar: the person's projects, most recently active first, each with how
// many chats it holds; choosing one shows only its chats. A project can be created, renamed
// and deleted (its chats stay, in no project), and any chat moved into one or out again.

import { del, get, post, put, query, request } from './api.js';
import { h, icon, iconButton, icons, mount, toast } from './dom.js';

const MAX_NAME = 100;

/**
 * The projects panel. `onFilter(projectId | '')` is called when the person picks a project
 * (or "All conversations"); `onChanged()` when chats moved, so the list can load again.
 */
export function projectsPanel({ onFilter, onChanged }) {
  const state = { projects: [], cursor: null, active: '' };
  const list = h('ul', { class: 'project-list' });
  const moreButton = h('button', { type: 'button', class: 'small link', hidden: true, onclick: () => load(true) }, 'More projects');
  const el = h('section', { class: 'projects', 'aria-label': 'Projects' },
    h('div', { class: 'projects-head' },
      h('h3', {}, 'Projects'),
      iconButton('plus', 'New project', create, { class: 'icon-btn small' })),
    list, moreButton);

  async function load(more = false) {
    try {
      const page = await get(`api/projects${query({ sortBy: 'lastConversationAt', sortDirection: 'desc', limit: 25, cursor: more ? state.cursor : null })}`);
      state.projects = more ? [...state.projects, ...page.projects] : page.projects;
      state.cursor = page.nextCursor;
      draw();
    } catch (e) {
      toast(`Cannot load projects: ${e.message}`, 'error');
    }
  }

  function draw() {
    moreButton.hidden = !state.cursor;
    const all = h('li', {}, h('button', {
      type: 'button', class: 'project-pick', 'aria-pressed': String(!state.active),
      onclick: () => pick(''),
    }, 'All conversations'));
    mount(list, state.projects.length ? all : null, state.projects.map(item));
    if (!state.projects.length) list.append(h('li', { class: 'muted' }, 'No projects yet.'));
  }

  function item(p) {
    const count = p.conversationCount === 1 ? '1 chat' : `${p.conversationCount} chats`;
    const li = h('li', { class: 'project', 'data-id': p._id },
      h('button', {
        type: 'button', class: 'project-pick', 'aria-pressed': String(state.active === p._id),
        title: p.description || p.name, onclick: () => pick(p._id),
      }, icon(...icons.file), h('span', { class: 'project-name' }, p.name), h('span', { class: 'project-count muted' }, count)),
      iconButton('more', `Actions for project ${p.name}`, (e) => menu(e, p, li)));
    return li;
  }

  function pick(id) {
    state.active = id;
    draw();
    onFilter(id);
  }

  function menu(e, p, li) {
    e.stopPropagation();
    document.querySelector('.project-menu')?.remove();
    const act = (label, f) => h('button', { type: 'button', role: 'menuitem', onclick: () => { m.remove(); f(); } }, label);
    const m = h('div', { class: 'menu project-menu', role: 'menu' },
      act('Rename project', () => rename(p)),
      act('Describe project', () => describe(p)),
      act('Delete project', () => remove(p)));
    li.append(m);
    m.querySelector('button').focus();
    const close = (ev) => {
      if (!m.contains(ev.target)) {
        m.remove();
        document.removeEventListener('click', close);
      }
    };
    setTimeout(() => document.addEventListener('click', close));
    m.addEventListener('keydown', (ev) => ev.key === 'Escape' && m.remove());
  }

  /** Asks for a name; `null` when the person cancels. */
  function askName(title, value = '') {
    const name = prompt(title, value);
    if (name === null) return null;
    const t = name.trim();
    if (!t || t.length > MAX_NAME) {
      toast(`A project name is 1 to ${MAX_NAME} characters.`, 'error');
      return null;
    }
    return t;
  }

  async function create() {
    const name = askName('Name of the new project');
    if (!name) return;
    try {
      const p = await post('api/projects', { name });
      state.projects = [p, ...state.projects];
      pick(p._id);
      toast(`Project "${p.name}" created`);
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async function change(p, body) {
    try {
      const updated = await request('PATCH', `api/projects/${encodeURIComponent(p._id)}`, body);
      state.projects = state.projects.map((x) => (x._id === p._id ? updated : x));
      draw();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  function rename(p) {
    const name = askName('New name of the project', p.name);
    if (name && name !== p.name) change(p, { name });
  }

  function describe(p) {
    const description = prompt('Description of the project', p.description || '');
    if (description !== null) change(p, { description });
  }

  async function remove(p) {
    if (!confirm(`Delete the project "${p.name}"? Its chats stay, in no project.`)) return;
    try {
      await del(`api/projects/${encodeURIComponent(p._id)}`);
      state.projects = state.projects.filter((x) => x._id !== p._id);
      if (state.active === p._id) pick('');
      else draw();
      onChanged();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  /** The dialog that moves chat `c` into a project or out of any; resolves when done. */
  async function move(c) {
    await load();
    const select = h('select', { 'aria-label': 'Project' },
      h('option', { value: '' }, 'No project'),
      state.projects.map((p) => h('option', { value: p._id, selected: p._id === c.chatProjectId }, p.name)));
    const dialog = h('dialog', { class: 'dialog', 'aria-label': 'Move to project' },
      h('h2', {}, 'Move to project'),
      h('p', {}, c.title || 'New Chat'),
      select,
      h('div', { class: 'dialog-buttons' },
        h('button', { type: 'button', class: 'primary', onclick: async () => {
          try {
            const out = await put(`api/projects/conversations/${encodeURIComponent(c.conversationId)}`, { projectId: select.value || null });
            dialog.close();
            const name = state.projects.find((p) => p._id === out.projectId)?.name;
            toast(name ? `Moved to "${name}"` : 'Removed from its project');
            await load();
            onChanged(out.conversation);
          } catch (e) {
            toast(e.message, 'error');
          }
        } }, 'Move'),
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel')));
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    select.focus();
  }

  load();
  return { el, reload: () => load(), move, active: () => state.active };
}
