// A shared conversation, readable without an account: the snapshot the owner shared, with
// the answers already rendered by the server.

import { get } from './api.js';
import { h, mount, serverHtml } from './dom.js';
import { decorate } from './render.js';
import { href } from './router.js';
import { Tree, textOf } from './tree.js';

export async function shareScreen(root, shareId) {
  mount(root, h('main', { class: 'share' }, h('p', { class: 'muted' }, 'Loading…')));
  try {
    const shared = await get(`api/share/${encodeURIComponent(shareId)}`);
    document.title = shared.title || 'Shared conversation';
    const branch = new Tree(shared.messages || []).branch();
    mount(root, h('main', { class: 'share' },
      h('header', { class: 'share-head' },
        h('h1', {}, shared.title || 'Shared conversation'),
        h('p', { class: 'muted' }, `Shared ${new Date(shared.createdAt || Date.now()).toLocaleDateString()}`)),
      h('div', { class: 'messages' }, branch.map((m) => {
        const body = h('div', { class: m.isCreatedByUser ? 'msg-body plain' : 'msg-body markdown' });
        if (!m.isCreatedByUser && m.html) decorate(serverHtml(body, m.html));
        else body.textContent = textOf(m);
        return h('article', { class: `msg ${m.isCreatedByUser ? 'user' : 'assistant'}` },
          h('div', { class: 'msg-author' }, m.isCreatedByUser ? 'User' : m.sender || 'Assistant'), body);
      }))));
  } catch (e) {
    mount(root, h('main', { class: 'share' }, h('h1', {}, 'This link does not work'),
      h('p', { class: 'form-error', role: 'alert' }, e.message),
      e.status === 401 ? h('a', { class: 'button primary', href: href('login'), 'data-link': '' }, 'Sign in') : null));
  }
}
