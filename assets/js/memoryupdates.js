// What the memory agent did beside an answer, shown above it as LibreChat's client shows it:
// "Updated saved memory" (or "Memory Error"), opened to list the memories updated (key and
// value), those deleted, and why one could not be kept. It comes from the answer's
// `attachments` (type `memory`): live from the stream's `attachment` events, and from the
// saved answer after a reload.

import { h, icon, icons } from './dom.js';

/** The memory attachments of message `m`. */
export const memoryAttachments = (m) =>
  (Array.isArray(m?.attachments) ? m.attachments : []).filter((a) => a?.type === 'memory' && a.memory);

/** Adds `attachment` to message `m` unless it is there already (a resumed stream sends it again). */
export function addAttachment(m, attachment) {
  const list = Array.isArray(m.attachments) ? m.attachments : [];
  const same = attachment?.type === 'memory'
    ? (a) => a?.toolCallId === attachment.toolCallId && a?.memory?.key === attachment.memory?.key
      && a?.memory?.type === attachment.memory?.type
    // A tool's sources (web or file search): one attachment per call.
    : (a) => a?.type === attachment?.type && a?.toolCallId === attachment?.toolCallId && a?.name === attachment?.name;
  if (list.some(same)) return false;
  m.attachments = [...list, attachment];
  return true;
}

/** LibreChat's words for a memory that could not be kept. */
function errorText(memory) {
  try {
    const e = JSON.parse(memory.value);
    if (e.errorType === 'already_exceeded') {
      return `Memory storage already full - exceeded by ${e.tokenCount} tokens. Delete existing memories before adding new ones.`;
    }
    if (e.errorType === 'would_exceed') {
      return `Cannot save - would exceed limit by ${e.tokenCount} tokens. Delete existing memories to make space.`;
    }
  } catch {
    // Not LibreChat's error shape: the plain words below.
  }
  return 'Memory Error';
}

/** Answers whose memory updates the person opened, so they stay open when redrawn. */
const opened = new Set();
const MAX_OPENED = 200;

/** The element for message `m`'s memory updates, or null when it has none. */
export function memoryUpdates(m) {
  const memories = memoryAttachments(m).map((a) => a.memory);
  if (!memories.length) return null;
  const updated = memories.filter((x) => x.type === 'update');
  const deleted = memories.filter((x) => x.type === 'delete');
  const errors = [...new Set(memories.filter((x) => x.type === 'error').map(errorText))];
  const key = m.messageId;
  const el = h('details', { class: `memory-updates${errors.length ? ' has-errors' : ''}`, open: opened.has(key) },
    h('summary', {}, icon(...icons.edit), errors.length ? 'Memory Error' : 'Updated saved memory'),
    h('div', { class: 'memory-info' },
      updated.length ? section('Updated Memories', updated.map((x) =>
        h('div', { class: 'memory-item' }, h('div', { class: 'memory-key' }, x.key), h('div', { class: 'memory-value' }, String(x.value ?? ''))))) : null,
      deleted.length ? section('Deleted Memories', deleted.map((x) =>
        h('div', { class: 'memory-item deleted' }, h('div', { class: 'memory-key' }, x.key), h('div', { class: 'memory-value' }, 'Memory deleted')))) : null,
      errors.length ? section('Memory Storage Full', errors.map((t) => h('div', { class: 'memory-item error', role: 'alert' }, t)), 'error') : null));
  el.addEventListener('toggle', () => {
    if (el.open) opened.add(key);
    else opened.delete(key);
    if (opened.size > MAX_OPENED) opened.delete(opened.values().next().value);
  });
  return el;
}

function section(title, items, kind = '') {
  return h('div', { class: `memory-section ${kind}` }, h('h4', {}, title), items);
}

/** Puts message `m`'s memory updates in `el` (a message element), under its author, redrawn
 * only when they changed (an answer is redrawn as it streams). */
export function showMemoryUpdates(el, m) {
  const sig = JSON.stringify(memoryAttachments(m).map((a) => a.memory));
  if (el._memorySig === sig) return;
  el._memorySig = sig;
  const old = el.querySelector(':scope > .memory-updates');
  const fresh = memoryUpdates(m);
  if (old && fresh) old.replaceWith(fresh);
  else if (old) old.remove();
  else if (fresh) el.querySelector(':scope > .msg-author')?.after(fresh);
}
