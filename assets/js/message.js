// One message on screen: who wrote it, its rendered text, and what can be done with it.

import { currentUser } from './api.js';
import { agentAvatar } from './agentcatalog.js';
import { artifactCard, openArtifact, segments } from './artifacts.js';
import { avatar } from './avatar.js';
import { callIds, cite, settled, showSources, sourcesOf } from './citations.js';
import { h, iconButton, icon, icons, toast } from './dom.js';
import { messageFiles } from './files.js';
import { showMemoryUpdates } from './memoryupdates.js';
import { showMarkdown } from './render.js';
import { hasColumns, plainColumns, showColumns } from './columns.js';
import { hasToolCalls, textOfParts } from './runsteps.js';
import { plainBody, showParts } from './toolsteps.js';
import { textOf, thinkingOf } from './tree.js';

/**
 * The element for message `m`. `ctx` has the tree and the actions:
 * {tree, isLast, streaming, agent (the agent that wrote it, for its picture), onSibling(m, step),
 *  onEdit(m, text, resubmit), onRegenerate(m), onContinue(m), onFork(m), onFeedback(m, rating),
 *  onRetry(m)}.
 */
export function messageElement(m, ctx) {
  const user = m.isCreatedByUser;
  const body = h('div', { class: user ? 'msg-body plain' : 'msg-body markdown' });
  const el = h('article', {
    class: `msg ${user ? 'user' : 'assistant'}${m.error ? ' failed' : ''}`,
    'data-id': m.messageId,
    'aria-label': user ? 'Your message' : `Answer from ${m.sender || 'the assistant'}`,
  });
  const think = thinkingOf(m);
  const thinking = think
    ? h('details', { class: 'thinking' }, h('summary', {}, 'Thinking'), h('div', { class: 'think-body' }, think))
    : null;
  fill(body, m, ctx);
  // The person's own messages carry their avatar, as in LibreChat.
  el.append(user
    ? h('div', { class: 'msg-author' }, avatar(currentUser()), 'You')
    : h('div', { class: 'msg-author' }, ctx.agent ? agentAvatar(ctx.agent) : null, m.sender || 'Assistant'));
  if (!user) showMemoryUpdates(el, m);
  if (thinking) el.append(thinking);
  const files = Array.isArray(m.files) && m.files.length ? messageFiles(m.files) : null;
  if (files) el.append(files);
  // A message may be only files: no empty bubble under them.
  body.hidden = !!files && user && !textOf(m).trim();
  el.append(body);
  if (!user) showSources(el, body, ownSources(m));
  if (m.error) {
    el.append(h('p', { class: 'msg-error', role: 'alert' },
      'This answer failed. ', h('button', { type: 'button', class: 'link', onclick: () => ctx.onRetry(m) }, 'Retry')));
  }
  el.append(actions(m, ctx, el, body));
  return el;
}

/** `live`: the answer is being written (its calls without output are running). */
function fill(body, m, ctx, live = !!ctx?.streaming && !!ctx?.isLast) {
  const text = live ? settled(textOf(m)) : textOf(m);
  if (m.isCreatedByUser) {
    body.textContent = text;
    return;
  }
  // The message's element lists the sources (`showSources`); the text cites them.
  const sources = ownSources(m);
  const after = (el) => cite(el, sources);
  const shown = (t) => (live ? settled(t) : t);
  const onOpen = (a) => openArtifact(a, {
    messageId: m.messageId,
    // Not while the answer is still being written: the next save would undo the edit.
    editable: !!ctx && !live,
    onSaved: ({ text: t, content }) => {
      Object.assign(m, { text: t, content });
      if (ctx?.tree?.get(m.messageId)) Object.assign(ctx.tree.get(m.messageId), { text: t, content });
      fill(body, m, ctx);
    },
  });
  if (hasColumns(m)) {
    // Agents that answered side by side, in columns. Their artifacts open read-only: an
    // edit names an artifact by its place in the whole answer, which a column cannot tell.
    // A column lists and cites the sources its own searches found, as an answer does.
    const open = (a) => openArtifact(a, { readOnly: true });
    showColumns(body, m.content, (el, parts, column) => {
      const calls = callIds(parts);
      const own = column ? sourcesOf(m, (a) => calls.has(a?.toolCallId)) : sources;
      const cites = (e) => cite(e, own);
      if (parts.some((p) => p?.type === 'tool_call')) {
        showParts(el, parts, { live, key: null, countArtifacts: () => 0, showText: (e, t) => showAnswer(e, shown(t), open, cites) });
      } else {
        plainBody(el);
        showAnswer(el, shown(textOfParts(parts)), open, cites);
      }
      if (column) showSources(column, el, own);
    }, () => fill(body, m, ctx));
    return;
  }
  plainColumns(body);
  if (!hasToolCalls(m)) {
    plainBody(body);
    showAnswer(body, text, onOpen, after);
    return;
  }
  // Artifacts are numbered across the whole answer, as the server numbers them.
  showParts(body, m.content, {
    live,
    key: m.messageId,
    countArtifacts: (t) => segments(t).filter((s) => s.kind === 'artifact').length,
    showText: (el, t, before) => showAnswer(el, shown(t), (a) => onOpen({ ...a, index: a.index + before }), after),
  });
}

/**
 * An answer's text as markdown, with each artifact as a card. The pieces are kept from one call
 * to the next (an answer streams in), so rendered markdown stays until its update arrives.
 */
function showAnswer(body, text, onOpen, after) {
  const parts = segments(text);
  if (parts.length === 1 && parts[0].kind === 'text') {
    if (body._parts) {
      body._parts = null;
      body.replaceChildren();
    }
    showMarkdown(body, text, after);
    return;
  }
  if (!body._parts) {
    body.replaceChildren();
    body._parts = [];
  }
  const kept = body._parts;
  parts.forEach((p, i) => {
    const old = kept[i];
    if (p.kind === 'text') {
      const el = old?.kind === 'text' ? old.el : h('div', { class: 'answer-part' });
      showMarkdown(el, p.text, after);
      if (el !== old?.el) place(body, kept, i, { kind: 'text', el });
    } else {
      place(body, kept, i, { kind: 'artifact', el: artifactCard(p, onOpen) });
    }
  });
  for (const extra of kept.splice(parts.length)) extra.el.remove();
}

/** Puts `part` at position `i` of the body's pieces, replacing what was there. */
function place(body, kept, i, part) {
  if (kept[i]) kept[i].el.replaceWith(part.el);
  else body.append(part.el);
  kept[i] = part;
}

/**
 * The sources listed under answer `m` itself: all of them, but for an answer given side by
 * side those its columns list (their searches').
 */
function ownSources(m) {
  if (!hasColumns(m)) return sourcesOf(m);
  const inColumns = callIds(m.content.filter((p) => p?.groupId != null));
  return sourcesOf(m, (a) => !inColumns.has(a?.toolCallId));
}

/** Updates a streaming answer in place. */
export function updateStreaming(el, m) {
  const body = el.querySelector('.msg-body');
  showMemoryUpdates(el, m);
  showSources(el, body, ownSources(m));
  const think = thinkingOf(m);
  if (think) {
    let t = el.querySelector('.thinking');
    if (!t) {
      t = h('details', { class: 'thinking', open: true }, h('summary', {}, 'Thinking'), h('div', { class: 'think-body' }));
      body.before(t);
    }
    t.querySelector('.think-body').textContent = think;
  }
  fill(body, m, null, true);
}

function actions(m, ctx, el, body) {
  const bar = h('div', { class: 'msg-actions' });
  const sibs = ctx.tree.siblings(m);
  if (sibs.length > 1) {
    const i = sibs.indexOf(m.messageId);
    bar.append(h('div', { class: 'siblings', role: 'group', 'aria-label': 'Versions' },
      iconButton('left', 'Previous version', () => ctx.onSibling(m, -1), { disabled: i <= 0 || ctx.streaming }),
      h('span', { class: 'sibling-count' }, `${i + 1} / ${sibs.length}`),
      iconButton('right', 'Next version', () => ctx.onSibling(m, 1), { disabled: i >= sibs.length - 1 || ctx.streaming })));
  }
  if (ctx.streaming && ctx.isLast) return bar;
  bar.append(iconButton('copy', 'Copy', async () => {
    try {
      await navigator.clipboard.writeText(textOf(m));
      toast('Copied');
    } catch {
      toast('Copying is not allowed here', 'error');
    }
  }));
  if (m.isCreatedByUser) {
    bar.append(iconButton('edit', 'Edit', () => editInPlace(m, ctx, el, body), { disabled: ctx.streaming }));
  } else {
    if (ctx.isLast) bar.append(iconButton('retry', 'Regenerate', () => ctx.onRegenerate(m), { disabled: ctx.streaming }));
    if (ctx.isLast && m.unfinished && !m.error) {
      bar.append(iconButton('play', 'Continue', () => ctx.onContinue(m), { disabled: ctx.streaming }));
    }
    bar.append(iconButton('fork', 'Fork from here', () => ctx.onFork(m), { disabled: ctx.streaming }));
    const rating = m.feedback?.rating;
    bar.append(
      iconButton('thumbUp', 'Good answer', () => ctx.onFeedback(m, rating === 'thumbsUp' ? null : 'thumbsUp'), { 'aria-pressed': rating === 'thumbsUp' ? 'true' : 'false' }),
      iconButton('thumbDown', 'Bad answer', () => ctx.onFeedback(m, rating === 'thumbsDown' ? null : 'thumbsDown'), { 'aria-pressed': rating === 'thumbsDown' ? 'true' : 'false' }));
  }
  return bar;
}

function editInPlace(m, ctx, el, body) {
  const area = h('textarea', { class: 'edit-area', 'aria-label': 'Edit message', rows: 3 });
  area.value = textOf(m);
  const done = () => {
    form.replaceWith(body);
    el.querySelector('.msg-actions').hidden = false;
  };
  const form = h('div', { class: 'edit-form' }, area,
    h('div', { class: 'edit-buttons' },
      h('button', { type: 'button', class: 'primary', onclick: () => { done(); ctx.onEdit(m, area.value, true); } }, 'Save & Submit'),
      h('button', { type: 'button', onclick: () => { done(); ctx.onEdit(m, area.value, false); } }, 'Save'),
      h('button', { type: 'button', onclick: done }, 'Cancel')));
  area.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') done();
  });
  body.replaceWith(form);
  el.querySelector('.msg-actions').hidden = true;
  area.focus();
}

export { icon, icons };
