// One prompt group: its details, its production text and its versions. What may be changed
// follows the person's access to this group (`GET /api/permissions/promptGroup/:id/effective`:
// VIEW 1, EDIT 2, DELETE 4, SHARE 8) and their role's PROMPTS permissions, as the server checks
// them: a viewer reads; an editor saves a new version (made the production one) and changes
// the details; the owner also deletes and shares (sharing.js).

import { del, get, post, query, request } from './api.js';
import { h, mount, toast } from './dom.js';
import { categories, categoryLabel, groupFields } from './prompts.js';
import { permissionsOf } from './roles.js';
import { href, navigate } from './router.js';

const EDIT = 2;
const DELETE = 4;
const SHARE = 8;

export async function promptScreen(root, id) {
  const path = encodeURIComponent(id);
  let group;
  let versions;
  let bits;
  let perms;
  let cats;
  try {
    [group, versions, { permissionBits: bits }, perms, cats] = await Promise.all([
      get(`api/prompts/groups/${path}`),
      get(`api/prompts${query({ groupId: id })}`),
      get(`api/permissions/promptGroup/${path}/effective`),
      permissionsOf('PROMPTS'),
      categories(),
    ]);
  } catch (e) {
    return mount(root, h('div', { class: 'prompts-page' }, back(),
      h('p', { class: 'form-error', role: 'alert' }, e.status === 404 ? 'This prompt does not exist, or is not shared with you.' : e.message)));
  }
  document.title = group.name;
  const may = {
    edit: (bits & EDIT) !== 0,
    details: (bits & EDIT) !== 0 && perms.CREATE,
    remove: (bits & DELETE) !== 0 && perms.CREATE,
    share: (bits & SHARE) !== 0 && perms.SHARE,
  };
  const redraw = () => promptScreen(root, id);
  const production = versions.find((v) => v._id === group.productionId) || versions[0];
  mount(root, h('div', { class: 'prompts-page' },
    back(),
    h('header', { class: 'prompts-head' },
      h('h1', {}, group.name),
      h('div', { class: 'row' },
        may.share ? h('button', { type: 'button', onclick: () => share(group, perms) }, 'Share') : null,
        may.remove ? h('button', { type: 'button', class: 'danger', onclick: () => removeGroup(group) }, 'Delete prompt') : null)),
    h('p', { class: 'muted prompt-meta' },
      [group.command ? `/${group.command}` : 'No command', categoryLabel(group.category), `by ${group.authorName || 'someone'}`,
        `used ${group.numberOfGenerations || 0} times`].filter(Boolean).join(' · ')),
    group.oneliner ? h('p', {}, group.oneliner) : null,
    may.details ? details(group, cats, redraw) : null,
    textSection(group, production, may, perms, redraw),
    h('section', { class: 'prompt-versions', 'aria-label': 'Versions' }, h('h2', {}, 'Versions'),
      h('ol', { class: 'plain-list versions' }, versions.map((v, i) => version(v, versions.length - i, group, may, redraw))))));
}

const back = () => h('a', { class: 'back-link', href: href('prompts'), 'data-link': '' }, '← All prompts');

/** The name, description, category and command, with a Save button. */
function details(group, cats, redraw) {
  const fields = groupFields(cats, group);
  return h('form', { class: 'prompt-form', 'aria-label': 'Details', onsubmit: async (e) => {
    e.preventDefault();
    try {
      await request('PATCH', `api/prompts/groups/${encodeURIComponent(group._id)}`, fields.value());
      toast('Details saved');
      redraw();
    } catch (err) {
      toast(err.message, 'error');
    }
  } }, fields.el, h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Save details')));
}

/** The production text: to read, or to change into a new version. */
function textSection(group, production, may, perms, redraw) {
  const text = production?.prompt || '';
  if (!may.edit) {
    return h('section', { 'aria-label': 'Text' }, h('h2', {}, 'Text'), h('div', { class: 'prompt-text', role: 'document', 'aria-label': 'Prompt text' }, text));
  }
  const area = h('textarea', { id: 'prompt-text', rows: 8 }, text);
  const save = async () => {
    if (!area.value.trim() || area.value === text) return toast('Change the text first.');
    try {
      const { prompt } = await post(`api/prompts/groups/${encodeURIComponent(group._id)}/prompts`,
        { prompt: { prompt: area.value, type: production?.type || 'text' } });
      // LibreChat's client makes each new version the production one (its `alwaysMakeProd`).
      if (perms.CREATE) await request('PATCH', `api/prompts/${encodeURIComponent(prompt._id)}/tags/production`);
      toast('New version saved');
      redraw();
    } catch (e) {
      toast(e.message, 'error');
    }
  };
  return h('section', { 'aria-label': 'Text' }, h('h2', {}, h('label', { for: 'prompt-text' }, 'Prompt text')), area,
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'primary', onclick: save }, 'Save as new version')));
}

/** Version `n`: when it was written, whether it is the production one, its text. */
function version(v, n, group, may, redraw) {
  const isProduction = v._id === group.productionId;
  // `f` answers true when the group went with the version (the screen has moved on).
  const act = async (f, done) => {
    try {
      const gone = await f();
      toast(done);
      if (!gone) redraw();
    } catch (e) {
      toast(e.message, 'error');
    }
  };
  return h('li', { class: 'version', 'data-id': v._id },
    h('div', { class: 'version-text' },
      h('strong', {}, `Version ${n}`, isProduction ? h('span', { class: 'badge' }, 'Production') : null),
      h('span', { class: 'muted' }, new Date(v.createdAt).toLocaleString()),
      h('span', { class: 'version-body' }, v.prompt)),
    may.details && !isProduction ? h('button', { type: 'button', class: 'small', 'aria-label': `Make version ${n} the production one`,
      onclick: () => act(() => request('PATCH', `api/prompts/${encodeURIComponent(v._id)}/tags/production`), `Version ${n} is the production one`) }, 'Make production') : null,
    may.remove ? h('button', { type: 'button', class: 'small', 'aria-label': `Delete version ${n}`,
      onclick: () => confirm(`Delete version ${n}?`) && act(async () => {
        const out = await del(`api/prompts/${encodeURIComponent(v._id)}${query({ groupId: group._id })}`);
        if (out.promptGroup) navigate('prompts');
        return !!out.promptGroup;
      }, `Version ${n} deleted`) }, 'Delete') : null);
}

async function removeGroup(group) {
  if (!confirm(`Delete the prompt "${group.name}" and all its versions?`)) return;
  try {
    await del(`api/prompts/groups/${encodeURIComponent(group._id)}`);
    toast(`"${group.name}" deleted`);
    navigate('prompts');
  } catch (e) {
    toast(e.message, 'error');
  }
}

async function share(group, perms) {
  const { shareDialog } = await import('./sharing.js');
  shareDialog({ type: 'promptGroup', id: group._id, name: group.name, mayPublic: !!perms.SHARE_PUBLIC });
}
