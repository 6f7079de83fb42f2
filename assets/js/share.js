// A shared conversation, readable without an account: the snapshot the owner shared, with
// the answers already rendered by the server. An answer's artifacts show as cards, as in the
// chat, and open read-only (no edit, no save) in the same sandboxed frame: the server sends
// the rendered text around the cards (`htmlParts`), cut as `segments` cuts it, and each card's
// Markdown document rendered (`htmlDocuments`), since a reader without an account cannot
// have it rendered.

import { get } from './api.js';
import { artifactCard, artifactPanel, openArtifact, segments } from './artifacts.js';
import { cite, sourceList, sourcesOf } from './citations.js';
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
    const panel = artifactPanel();
    mount(root, h('main', { class: 'share' },
      h('header', { class: 'share-head' },
        h('h1', {}, shared.title || 'Shared conversation'),
        h('p', { class: 'muted' }, `Shared ${new Date(shared.createdAt || Date.now()).toLocaleDateString()}`)),
      h('div', { class: 'messages' }, branch.map((m) => {
        const body = h('div', { class: m.isCreatedByUser ? 'msg-body plain' : 'msg-body markdown' });
        if (m.isCreatedByUser || !m.html) body.textContent = textOf(m);
        else if (!showWithArtifacts(body, m)) decorate(serverHtml(body, m.html));
        // A reader cannot download the owner's files: they are named, not linked.
        const sources = m.isCreatedByUser ? null : sourcesOf(m);
        if (sources) cite(body, sources, { files: false });
        return h('article', { class: `msg ${m.isCreatedByUser ? 'user' : 'assistant'}` },
          h('div', { class: 'msg-author' }, m.isCreatedByUser ? 'User' : m.sender || 'Assistant'), body,
          sources && sourceList(sources, { files: false }));
      })),
      panel.el));
  } catch (e) {
    mount(root, h('main', { class: 'share' }, h('h1', {}, 'This link does not work'),
      h('p', { class: 'form-error', role: 'alert' }, e.message),
      e.status === 401 ? h('a', { class: 'button primary', href: href('login'), 'data-link': '' }, 'Sign in') : null));
  }
}

/**
 * Fills `body` with answer `m`'s rendered text and a card for each artifact; false (nothing
 * done) when it has none, or when the server's pieces do not match the app's cut of the text.
 */
function showWithArtifacts(body, m) {
  const parts = segments(m.text || '');
  const texts = parts.filter((p) => p.kind === 'text');
  if (!parts.some((p) => p.kind === 'artifact') || texts.length !== m.htmlParts?.length) return false;
  let next = 0;
  let card = 0;
  const docs = m.htmlDocuments || [];
  body.append(...parts.map((p) => (p.kind === 'text'
    ? decorate(serverHtml(h('div', { class: 'answer-part' }), m.htmlParts[next++]))
    : artifactCard({ ...p, html: docs[card++] ?? null }, (a) => openArtifact(a, { readOnly: true })))));
  return true;
}
