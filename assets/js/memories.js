// Settings → Memories: what the assistant keeps about the person (`/api/memories`), with how
// much of the token limit they use; add, edit and delete them, and the switch that keeps them
// out of the answers (`PATCH /api/memories/preferences`). What the person's role may not do
// (LibreChat's MEMORIES permissions) is not offered.

import { currentUser, del, get, post, request } from './api.js';
import { h, mount, toast } from './dom.js';
import { permissionsOf } from './roles.js';

export async function memoriesTab(panel) {
  const [perms, user] = await Promise.all([permissionsOf('MEMORIES'), get('api/user').catch(() => currentUser())]);
  if (!perms.USE || !perms.READ) return mount(panel, h('p', { class: 'muted' }, 'Memories are not available to your account.'));
  const data = await get('api/memories');
  const redraw = () => memoriesTab(panel);
  const usage = data.tokenLimit
    ? `${data.totalTokens} of ${data.tokenLimit} tokens used (${data.usagePercentage}%)`
    : `${data.totalTokens} tokens in all`;
  mount(panel,
    h('p', {}, 'What the assistant remembers about you, given to it with every message.'),
    perms.OPT_OUT ? optOut(user) : null,
    h('p', { class: 'muted memory-usage' }, usage),
    data.memories.length
      ? h('ul', { class: 'plain-list memories' }, data.memories.map((m) => item(m, perms, data.charLimit, redraw)))
      : h('p', { class: 'muted' }, 'No memories yet.'),
    perms.CREATE ? addForm(data.charLimit, redraw) : null);
}

/** The switch for `personalization.memories`. */
function optOut(user) {
  const box = h('input', { type: 'checkbox', checked: user?.personalization?.memories !== false });
  box.addEventListener('change', async () => {
    try {
      const r = await request('PATCH', 'api/memories/preferences', { memories: box.checked });
      toast(r.preferences.memories ? 'Memories are used in answers' : 'Memories are no longer used in answers');
    } catch (e) {
      box.checked = !box.checked;
      toast(e.message, 'error');
    }
  });
  return h('label', { class: 'switch' }, box, 'Use memories in answers');
}

/** One memory: its key, value and tokens, with Edit and Delete when the role may update. */
function item(m, perms, charLimit, redraw) {
  const li = h('li', { class: 'memory' });
  const show = () => mount(li,
    h('div', { class: 'memory-text' }, h('strong', {}, m.key), h('span', {}, m.value),
      h('span', { class: 'muted' }, `${m.tokenCount} tokens`)),
    perms.UPDATE ? h('button', { type: 'button', class: 'small', 'aria-label': `Edit ${m.key}`, onclick: edit }, 'Edit') : null,
    perms.UPDATE ? h('button', { type: 'button', class: 'small', 'aria-label': `Delete ${m.key}`, onclick: remove }, 'Delete') : null);
  function edit() {
    const key = h('input', { 'aria-label': 'Memory key', value: m.key });
    const value = h('textarea', { 'aria-label': 'Memory value', rows: 3, maxlength: charLimit }, m.value);
    mount(li, h('div', { class: 'memory-edit' }, key, value,
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'primary', onclick: async () => {
          try {
            await request('PATCH', `api/memories/${encodeURIComponent(m.key)}`, { key: key.value.trim(), value: value.value });
            toast('Memory saved');
            redraw();
          } catch (e) {
            toast(e.message, 'error');
          }
        } }, 'Save'),
        h('button', { type: 'button', onclick: show }, 'Cancel'))));
    key.focus();
  }
  async function remove() {
    if (!confirm(`Forget "${m.key}"?`)) return;
    try {
      await del(`api/memories/${encodeURIComponent(m.key)}`);
      redraw();
    } catch (e) {
      toast(e.message, 'error');
    }
  }
  show();
  return li;
}

function addForm(charLimit, redraw) {
  const key = h('input', { 'aria-label': 'New memory key', placeholder: 'Key: lowercase letters and _' });
  const value = h('textarea', { 'aria-label': 'New memory value', rows: 2, maxlength: charLimit, placeholder: 'What to remember' });
  return h('form', { class: 'memory-add', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      await post('api/memories', { key: key.value.trim(), value: value.value });
      toast('Memory added');
      redraw();
    } catch (e) {
      toast(e.message, 'error');
    }
  } }, h('h3', {}, 'Add a memory'), key, value, h('button', { type: 'submit', class: 'primary' }, 'Add memory'));
}
