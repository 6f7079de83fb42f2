// The share dialog of a resource (a prompt group, an agent), as LibreChat's: who has
// access and with which access role (`GET /api/permissions/:type/:id`), the people picker that
// finds users and groups (`GET /api/permissions/search-principals`), and everyone (public),
// offered only when the role may share publicly. Saving sends what changed
// (`PUT /api/permissions/:type/:id`); the server refuses what the person may not do.

import { currentUser, get, put, query } from './api.js';
import { h, mount, toast } from './dom.js';

const key = (p) => `${p.type}:${p.id}`;
/** `com_ui_role_viewer` (LibreChat's translation key) is "Viewer". */
const roleLabel = (r) => {
  const word = r.name.replace(/^com_ui_role_/, '');
  return word[0].toUpperCase() + word.slice(1);
};

/** Opens the dialog for resource `id` of `type`, titled with its `name`. */
export async function shareDialog({ type, id, name, mayPublic }) {
  const base = `api/permissions/${type}/${encodeURIComponent(id)}`;
  let now;
  let roles;
  try {
    [now, roles] = await Promise.all([get(base), get(`api/permissions/${type}/roles`)]);
  } catch (e) {
    return toast(e.message, 'error');
  }
  const viewer = roles.find((r) => r.accessRoleId.endsWith('_viewer')) || roles[0];
  const before = new Map(now.principals.map((p) => [key(p), p]));
  const entries = new Map(now.principals.map((p) => [key(p), { ...p }]));
  const me = currentUser()?.id;

  const roleSelect = (value, label, onchange, disabled = false) => {
    const s = h('select', { 'aria-label': label, disabled }, roles.map((r) => h('option', { value: r.accessRoleId, selected: r.accessRoleId === value }, roleLabel(r))));
    s.addEventListener('change', () => onchange(s.value));
    return s;
  };
  const search = h('input', { type: 'search', id: 'share-search', autocomplete: 'off', placeholder: 'A name or an email, 2 letters or more' });
  const found = h('ul', { class: 'plain-list share-found', 'aria-label': 'People and groups found' });
  const list = h('ul', { class: 'plain-list share-list', 'aria-label': 'Who has access' });
  const everyone = h('input', { type: 'checkbox', checked: now.public });
  let publicRole = now.publicAccessRoleId || viewer.accessRoleId;
  const publicRow = mayPublic || now.public
    ? h('div', { class: 'row' }, h('label', { class: 'switch' }, everyone, 'Everyone can use it'),
      roleSelect(publicRole, 'Access of everyone', (v) => { publicRole = v; }, !mayPublic))
    : null;
  everyone.disabled = !mayPublic;

  function drawList() {
    mount(list, [...entries.values()].map((p) => {
      const label = p.name || p.email || p.id;
      const self = p.type === 'user' && p.id === me;
      return h('li', { 'data-principal': key(p) },
        h('span', {}, h('strong', {}, label), p.email && p.email !== label ? h('span', { class: 'muted' }, ` ${p.email}`) : null,
          p.type === 'group' ? h('span', { class: 'muted' }, ' (group)') : null, self ? h('span', { class: 'muted' }, ' (you)') : null),
        roleSelect(p.accessRoleId, `Access of ${label}`, (v) => { p.accessRoleId = v; }, self),
        self ? null : h('button', { type: 'button', class: 'small', 'aria-label': `Remove ${label}`, onclick: () => { entries.delete(key(p)); drawList(); } }, 'Remove'));
    }));
    if (!entries.size) list.append(h('li', { class: 'muted' }, 'No one yet.'));
  }

  let timer = null;
  let ticket = 0;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(find, 250);
  });
  async function find() {
    const q = search.value.trim();
    const mine = ++ticket;
    if (q.length < 2) return mount(found);
    try {
      const r = await get(`api/permissions/search-principals${query({ q, limit: 10 })}`);
      if (mine !== ticket) return;
      const fresh = r.results.filter((p) => !entries.has(key(p)));
      mount(found, fresh.length ? fresh.map((p) => h('li', {},
        h('span', {}, h('strong', {}, p.name), h('span', { class: 'muted' }, p.type === 'group' ? ' (group)' : ` ${p.email || ''}`)),
        h('button', { type: 'button', class: 'small', 'aria-label': `Add ${p.name}`, onclick: () => {
          entries.set(key(p), { type: p.type, id: p.id, name: p.name, email: p.email, accessRoleId: viewer.accessRoleId });
          search.value = '';
          mount(found);
          drawList();
        } }, 'Add'))) : h('li', { class: 'muted' }, 'No one found.'));
    } catch (e) {
      if (mine === ticket) mount(found, h('li', { class: 'form-error' }, e.message));
    }
  }

  async function save() {
    const principal = (p) => ({ type: p.type, id: p.id, accessRoleId: p.accessRoleId });
    const updated = [...entries.values()].filter((p) => before.get(key(p))?.accessRoleId !== p.accessRoleId).map(principal);
    const removed = [...before.values()].filter((p) => !entries.has(key(p))).map(principal);
    const body = { updated, removed };
    if (mayPublic) Object.assign(body, { public: everyone.checked, publicAccessRoleId: everyone.checked ? publicRole : undefined });
    try {
      await put(base, body);
      toast('Sharing saved');
      dialog.close();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  const dialog = h('dialog', { class: 'dialog share-dialog', 'aria-label': `Share ${name}` },
    h('div', { class: 'dialog-head' }, h('h2', {}, `Share "${name}"`)),
    h('div', { class: 'field' }, h('label', { for: 'share-search' }, 'Add people or groups'), search),
    found,
    h('h3', {}, 'Who has access'),
    list,
    publicRow,
    h('div', { class: 'dialog-buttons' },
      h('button', { type: 'button', class: 'primary', onclick: save }, 'Save'),
      h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel')));
  dialog.addEventListener('close', () => dialog.remove());
  drawList();
  document.body.append(dialog);
  dialog.showModal();
  search.focus();
}
