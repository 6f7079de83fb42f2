// One agent in the builder: a new one, or one the person can see. What may be done follows
// their access to it (`GET /api/permissions/agent/:_id/effective`: VIEW 1, EDIT 2, DELETE 4,
// SHARE 8) and their role's AGENTS permissions, as the server checks them: a viewer reads its
// summary and chats with it; an editor changes it (each save a version), sets its picture,
// restores a version and copies it, adds, edits and deletes its actions (actions.js) and
// uploads and removes its documents (agentfiles.js); the owner also deletes and shares it
// (sharing.js).

import { del, get, post, request } from './api.js';
import { actionsSection } from './actions.js';
import { agentAvatar, agentName, categoryName } from './agentcatalog.js';
import { filesSection } from './agentfiles.js';
import { agentForm } from './agentform.js';
import { agentsAccess } from './agents.js';
import { h, mount, toast } from './dom.js';
import { href, navigate } from './router.js';
import { fileConfig, sizeLabel } from './uploads.js';

const EDIT = 2;
const DELETE = 4;
const SHARE = 8;
const MB = 1024 * 1024;
const PICTURES = 'image/png,image/jpeg,image/gif,image/webp';

const page = (...children) => h('div', { class: 'prompts-page agent-page' }, back(), ...children);
const back = () => h('a', { class: 'back-link', href: href('agents'), 'data-link': '' }, '← All agents');
const chatLink = (a) => h('a', { class: 'button', href: href(`c/new?agent_id=${encodeURIComponent(a.id)}`), 'data-link': '' }, 'Start a chat');
const failed = (e) => h('p', { class: 'form-error', role: 'alert' }, e.status === 404 ? 'This agent does not exist, or is not shared with you.' : e.message);

/** The screen for agent `id`, or for a new one (`id` null). */
export async function agentScreen(root, id) {
  const access = await agentsAccess();
  if (!access.on) return mount(root, page(h('p', { class: 'muted' }, 'Agents are not available to your account.')));
  if (!id) return newAgent(root, access);
  const path = encodeURIComponent(id);
  let summary;
  let bits;
  try {
    summary = await get(`api/agents/${path}`);
    ({ permissionBits: bits } = await get(`api/permissions/agent/${encodeURIComponent(summary._id)}/effective`));
  } catch (e) {
    return mount(root, page(failed(e)));
  }
  document.title = agentName(summary);
  const may = {
    edit: (bits & EDIT) !== 0 && access.build,
    remove: (bits & DELETE) !== 0 && access.build,
    share: (bits & SHARE) !== 0 && !!access.perms.SHARE,
  };
  if (!may.edit) return mount(root, page(head(summary, may, access), details(summary)));
  let agent;
  let versions;
  try {
    [agent, versions] = await Promise.all([get(`api/agents/${path}/expanded`), get(`api/agents/${path}/versions`)]);
  } catch (e) {
    return mount(root, page(failed(e)));
  }
  const form = await agentForm(agent, access.entry);
  const redraw = () => agentScreen(root, id);
  const save = async (e) => {
    e.preventDefault();
    try {
      await request('PATCH', `api/agents/${path}`, form.value());
      toast('Agent saved');
      redraw();
    } catch (err) {
      toast(err.message, 'error');
    }
  };
  let versionsEl = versionsSection(agent, versions, redraw);
  // An action's save or delete changes the agent's tools (which the form keeps) and makes a
  // version, as a file's upload does; the rest of the form is left as the person has it.
  const versionsChanged = async () => {
    try {
      const fresh = versionsSection(agent, await get(`api/agents/${path}/versions`), redraw);
      versionsEl.replaceWith(fresh);
      versionsEl = fresh;
    } catch (e) {
      toast(e.message, 'error');
    }
  };
  const caps = access.entry?.capabilities || [];
  const actions = caps.includes('actions') ? actionsSection(agent, versionsChanged) : null;
  const files = caps.includes('context') ? filesSection(agent, versionsChanged) : null;
  mount(root, page(head(agent, may, access),
    pictureSection(agent, redraw),
    h('form', { class: 'prompt-form agent-form', 'aria-label': 'Agent', onsubmit: save }, form.el,
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Save'))),
    files,
    actions,
    versionsEl));
}

/** The form for a new agent; it exists once created, and its picture is set then. */
async function newAgent(root, access) {
  document.title = 'New agent';
  if (!access.build) return mount(root, page(h('p', { class: 'muted' }, 'Your account cannot build agents.')));
  const form = await agentForm({}, access.entry);
  const create = async (e) => {
    e.preventDefault();
    try {
      const made = await post('api/agents', form.value());
      toast(`Agent "${agentName(made)}" created`);
      navigate(`agents/${encodeURIComponent(made.id)}`, { replace: true });
    } catch (err) {
      toast(err.message, 'error');
    }
  };
  mount(root, page(h('h1', {}, 'New agent'),
    h('form', { class: 'prompt-form agent-form', 'aria-label': 'Agent', onsubmit: create }, form.el,
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Create agent'),
        h('a', { class: 'button', href: href('agents'), 'data-link': '' }, 'Cancel')))));
  form.focus();
}

/** Picture, name, and what may be done with the agent. */
function head(a, may, access) {
  return h('header', { class: 'prompts-head' },
    h('div', { class: 'row agent-title' }, agentAvatar(a, { large: true }), h('h1', {}, agentName(a))),
    h('div', { class: 'row' },
      chatLink(a),
      may.edit ? h('button', { type: 'button', onclick: () => duplicate(a) }, 'Duplicate') : null,
      may.share ? h('button', { type: 'button', onclick: () => share(a, access) }, 'Share') : null,
      may.remove ? h('button', { type: 'button', class: 'danger', onclick: () => remove(a) }, 'Delete agent') : null));
}

/** What a viewer reads: description, model, starters. */
function details(a) {
  const starters = (a.conversation_starters || []).filter((s) => typeof s === 'string' && s);
  return h('section', { class: 'agent-details', 'aria-label': 'About this agent' },
    a.description ? h('p', {}, a.description) : null,
    h('p', { class: 'muted prompt-meta' }, [`${a.model} (${a.provider})`, a.owner_contact?.name ? `by ${a.owner_contact.name}` : null].filter(Boolean).join(' · ')),
    starters.length ? h('div', {}, h('h2', {}, 'Conversation starters'), h('ul', {}, starters.map((s) => h('li', {}, s)))) : null);
}

/** The picture: upload one (`POST /api/files/images/agents/:id/avatar`) or take it away. */
function pictureSection(a, redraw) {
  const status = h('p', { class: 'muted', role: 'status' });
  const input = h('input', { type: 'file', accept: PICTURES, 'aria-label': 'Choose a picture for the agent', hidden: true });
  const choose = h('button', { type: 'button', onclick: () => input.click() }, a.avatar ? 'Change picture' : 'Add a picture');
  input.addEventListener('change', async () => {
    const file = input.files[0];
    input.value = '';
    if (!file) return;
    const cfg = await fileConfig();
    const limit = (typeof cfg?.avatarSizeLimit === 'number' ? cfg.avatarSizeLimit : 2) * MB;
    if (file.size === 0) return mount(status, 'This file is empty.');
    if (file.size > limit) return mount(status, `This picture is ${sizeLabel(file.size)}; the limit is ${sizeLabel(limit)}.`);
    const form = new FormData();
    form.append('file', file, encodeURIComponent(file.name || 'avatar'));
    choose.disabled = true;
    mount(status, 'Uploading…');
    try {
      await request('POST', `api/files/images/agents/${encodeURIComponent(a.id)}/avatar`, form);
      toast('Picture updated');
      redraw();
    } catch (e) {
      mount(status);
      toast(e.message, 'error');
      choose.disabled = false;
    }
  });
  const clear = a.avatar ? h('button', { type: 'button', onclick: async () => {
    try {
      await request('PATCH', `api/agents/${encodeURIComponent(a.id)}`, { avatar: null });
      toast('Picture removed');
      redraw();
    } catch (e) {
      toast(e.message, 'error');
    }
  } }, 'Remove picture') : null;
  return h('section', { class: 'agent-picture', 'aria-label': 'Picture' }, h('div', { class: 'row' }, choose, clear, input),
    h('p', { class: 'muted small-print' }, `PNG, JPEG, GIF or WebP; cut to a square. ${categoryName(a.category)} · version ${a.version}`), status);
}

/** What a version holds that the builder shows, to tell which version the agent is now. */
const FIELDS = ['name', 'description', 'instructions', 'provider', 'model', 'model_parameters', 'tools',
  'conversation_starters', 'category', 'recursion_limit', 'artifacts', 'avatar'];
const sameAs = (v, a) => FIELDS.every((k) => JSON.stringify(v[k] ?? null) === JSON.stringify(a[k] ?? null));

/** The versions, newest first; any but the one the agent is now may be restored. */
function versionsSection(a, versions, redraw) {
  let current = -1;
  versions.forEach((v, i) => { if (sameAs(v, a)) current = i; });
  const restore = async (index) => {
    try {
      await post(`api/agents/${encodeURIComponent(a.id)}/revert`, { version_index: index });
      toast(`Version ${index + 1} restored`);
      redraw();
    } catch (e) {
      toast(e.message, 'error');
    }
  };
  const items = versions.map((v, index) => h('li', { class: 'version', 'data-index': index },
    h('div', { class: 'version-text' },
      h('strong', {}, `Version ${index + 1}`, index === current ? h('span', { class: 'badge' }, 'Current') : null),
      h('span', { class: 'muted' }, new Date(v.updatedAt || v.createdAt).toLocaleString()),
      h('span', { class: 'version-body' }, [v.name || 'Unnamed', `${v.model} (${v.provider})`, (v.tools || []).length ? `tools: ${v.tools.join(', ')}` : null].filter(Boolean).join(' · '))),
    index === current ? null : h('button', { type: 'button', class: 'small', 'aria-label': `Restore version ${index + 1}`, onclick: () => restore(index) }, 'Restore'))).reverse();
  return h('section', { class: 'prompt-versions', 'aria-label': 'Versions' }, h('h2', {}, 'Versions'),
    h('ol', { class: 'plain-list versions' }, items));
}

async function duplicate(a) {
  try {
    const { agent } = await post(`api/agents/${encodeURIComponent(a.id)}/duplicate`);
    toast(`Copied as "${agentName(agent)}"`);
    navigate(`agents/${encodeURIComponent(agent.id)}`);
  } catch (e) {
    toast(e.message, 'error');
  }
}

async function remove(a) {
  if (!confirm(`Delete the agent "${agentName(a)}" and all its versions?`)) return;
  try {
    await del(`api/agents/${encodeURIComponent(a.id)}`);
    toast(`"${agentName(a)}" deleted`);
    navigate('agents');
  } catch (e) {
    toast(e.message, 'error');
  }
}

async function share(a, access) {
  const { shareDialog } = await import('./sharing.js');
  shareDialog({ type: 'agent', id: a._id, name: agentName(a), mayPublic: !!access.perms.SHARE_PUBLIC });
}
