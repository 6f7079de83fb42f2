// The admin screen (ADMIN role): users with search, bans, roles and balances, and what the
// USER role may do.

import { currentUser, get, post, put, del, query, request } from './api.js';
import { h, mount, toast } from './dom.js';

// The permissions of the features this server has (LibreChat's permission types); those of
// features not built yet always read as off, so they are not offered here.
const SWITCHES = [
  ['BOOKMARKS', 'USE', 'Bookmarks'],
  ['TEMPORARY_CHAT', 'USE', 'Temporary chats'],
  ['MEMORIES', 'USE', 'Memories'],
  ['SHARED_LINKS', 'CREATE', 'Share conversations'],
  ['SHARED_LINKS', 'SHARE_PUBLIC', 'Shared links are open to others'],
  ['PROMPTS', 'USE', 'Prompts'],
  ['PROMPTS', 'CREATE', 'Write prompts'],
  ['PROMPTS', 'SHARE', 'Share prompts with people and groups'],
  ['PROMPTS', 'SHARE_PUBLIC', 'Share prompts with everyone'],
  ['AGENTS', 'USE', 'Agents'],
  ['AGENTS', 'CREATE', 'Build agents'],
  ['AGENTS', 'SHARE', 'Share agents with people and groups'],
  ['AGENTS', 'SHARE_PUBLIC', 'Share agents with everyone'],
];

export async function adminScreen(root) {
  if (currentUser()?.role !== 'ADMIN') {
    return mount(root, h('div', { class: 'admin' }, h('p', { class: 'form-error', role: 'alert' }, 'Admin access required.')));
  }
  document.title = 'Admin';
  const search = h('input', { type: 'search', 'aria-label': 'Search users', placeholder: 'Search by email, name or username' });
  const table = h('div', { class: 'users-table' });
  const perms = h('div', { class: 'permissions' });
  let page = 0;
  const pager = h('div', { class: 'row' });
  const bannerForm = h('div', { class: 'banner-form' });
  const groups = h('div', { class: 'groups-table' });
  mount(root, h('div', { class: 'admin' },
    h('h1', {}, 'Administration'),
    h('section', {}, h('h2', {}, 'Users'), search, table, pager),
    h('section', {}, h('h2', {}, 'Groups'), groups),
    h('section', {}, h('h2', {}, 'Banner'), bannerForm),
    h('section', {}, h('h2', {}, 'What users may do'), perms)));
  drawBanner(bannerForm);
  drawGroups(groups);

  async function load() {
    try {
      const r = await get(`api/admin/users${query({ search: search.value.trim(), page })}`);
      mount(table, h('table', {},
        h('thead', {}, h('tr', {}, ['Email', 'Name', 'Role', 'Status', 'Credits', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, r.users.map(row))));
      mount(pager,
        page > 0 ? h('button', { type: 'button', onclick: () => { page -= 1; load(); } }, 'Previous') : null,
        r.hasMore ? h('button', { type: 'button', onclick: () => { page += 1; load(); } }, 'Next') : null);
    } catch (e) {
      mount(table, h('p', { class: 'form-error' }, e.message));
    }
  }

  function row(u) {
    const banned = !!u.bannedUntil;
    const role = h('select', { 'aria-label': `Role of ${u.email}` },
      ['USER', 'ADMIN'].map((r) => h('option', { value: r, selected: u.role === r }, r)));
    role.addEventListener('change', () => act(() => put(`api/admin/users/${u.id}/role`, { role: role.value }), 'Role changed'));
    return h('tr', { 'data-email': u.email },
      h('td', {}, u.email),
      h('td', {}, u.name || u.username || ''),
      h('td', {}, role),
      h('td', {}, banned ? `Banned until ${new Date(u.bannedUntil).toLocaleString()}` : 'Active'),
      h('td', {}, u.tokenCredits ?? '—'),
      h('td', { class: 'actions' },
        u.id === currentUser()?.id ? null : banned
          ? h('button', { type: 'button', class: 'small', onclick: () => act(() => del(`api/admin/users/${u.id}/ban`, {}), 'Unbanned') }, 'Unban')
          : h('button', { type: 'button', class: 'small danger', 'aria-label': `Ban ${u.email}`, onclick: () => {
            const minutes = Number(prompt(`Ban ${u.email} for how many minutes?`, '60'));
            if (minutes > 0) act(() => post(`api/admin/users/${u.id}/ban`, { minutes }), 'Banned');
          } }, 'Ban'),
        h('button', { type: 'button', class: 'small', onclick: () => {
          const v = prompt('Add credits (negative to take away), or =N to set the balance', '1000');
          if (!v) return;
          const body = v.startsWith('=') ? { set: Number(v.slice(1)) } : { add: Number(v) };
          act(() => post(`api/admin/users/${u.id}/balance`, body), 'Balance changed');
        } }, 'Credits')));
  }

  async function act(f, done) {
    try {
      await f();
      toast(done);
    } catch (e) {
      toast(e.message, 'error');
    }
    load();
  }

  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      page = 0;
      load();
    }, 250);
  });
  load();

  try {
    const role = await get('api/roles/USER');
    const p = role.permissions || {};
    mount(perms, h('ul', { class: 'plain-list' }, SWITCHES.filter(([type, perm]) => perm in (p[type] || {})).map(([type, perm, label]) => {
      const on = h('input', { type: 'checkbox', checked: !!p[type][perm], 'aria-label': `Users: ${label}` });
      on.addEventListener('change', async () => {
        try {
          await request('PATCH', 'api/admin/roles/USER/permissions', { permissions: { [type]: { [perm]: on.checked } } });
          toast('Saved');
        } catch (e) {
          toast(e.message, 'error');
          on.checked = !on.checked;
        }
      });
      return h('li', {}, h('label', { class: 'radio' }, on, ` ${label}`));
    })));
  } catch (e) {
    mount(perms, h('p', { class: 'muted' }, e.message));
  }
}

/** `datetime-local` value ⇄ ISO time. */
const toLocal = (iso) => (iso ? new Date(new Date(iso).getTime() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16) : '');
const fromLocal = (v) => (v ? new Date(v).toISOString() : undefined);

async function drawBanner(el) {
  let b = null;
  try {
    b = await get('api/admin/banner');
  } catch (e) {
    return mount(el, h('p', { class: 'form-error' }, e.message));
  }
  const message = h('textarea', { id: 'banner-message', rows: 2 });
  message.value = b?.message || '';
  const from = h('input', { id: 'banner-from', type: 'datetime-local', value: toLocal(b?.displayFrom) });
  const to = h('input', { id: 'banner-to', type: 'datetime-local', value: toLocal(b?.displayTo) });
  const isPublic = h('input', { type: 'checkbox', checked: !!b?.isPublic });
  const persistable = h('input', { type: 'checkbox', checked: !!b?.persistable });
  mount(el,
    h('div', { class: 'field' }, h('label', { for: 'banner-message' }, 'Message'), message),
    h('div', { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: 'banner-from' }, 'Show from'), from),
      h('div', { class: 'field' }, h('label', { for: 'banner-to' }, 'Until'), to)),
    h('label', { class: 'radio' }, isPublic, 'Also shown to people who are not signed in'),
    h('label', { class: 'radio' }, persistable, 'Cannot be dismissed'),
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'primary', onclick: async () => {
        try {
          await put('api/admin/banner', {
            message: message.value, displayFrom: fromLocal(from.value), displayTo: fromLocal(to.value),
            isPublic: isPublic.checked, persistable: persistable.checked,
          });
          toast('Banner saved');
          drawBanner(el);
        } catch (e) {
          toast(e.message, 'error');
        }
      } }, 'Save banner'),
      b ? h('button', { type: 'button', onclick: async () => {
        await del('api/admin/banner', {}).catch((e) => toast(e.message, 'error'));
        drawBanner(el);
      } }, 'Remove banner') : null));
}

/** Where a group comes from: an admin (`local`), or kept in step with a sign-in provider. */
const SOURCE = { local: 'Made here', openid: 'OpenID claim', ldap: 'LDAP directory' };

/** The groups, read only: `librechat group ...` makes and fills them, or sign-ins do. */
async function drawGroups(el) {
  try {
    const r = await get('api/admin/groups');
    if (!r.groups.length) {
      return mount(el, h('p', { class: 'muted' }, 'No groups yet. Make one with `librechat group create NAME`.'));
    }
    mount(el, h('table', {},
      h('thead', {}, h('tr', {}, ['Group', 'Source', 'Description', 'Members'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, r.groups.map((g) => h('tr', { 'data-group': g.name },
        h('td', {}, g.name),
        h('td', { class: 'muted' }, SOURCE[g.source] || g.source),
        h('td', {}, g.description || ''),
        h('td', {}, `${g.memberCount}: ${g.members.join(', ')}`))))));
  } catch (e) {
    mount(el, h('p', { class: 'form-error' }, e.message));
  }
}
