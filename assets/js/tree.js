// The message tree of a conversation: messages by id, children by parent, and which sibling
// is shown at each fork. The shown branch runs from the root down, taking the chosen child
// (by default the newest) at each step.

export const NO_PARENT = '00000000-0000-0000-0000-000000000000';

export class Tree {
  constructor(messages = []) {
    this.byId = new Map();
    this.children = new Map();
    this.chosen = new Map();
    for (const m of messages) this.put(m);
  }

  /** Adds or replaces a message (keeping its place among its siblings). */
  put(m) {
    const old = this.byId.get(m.messageId);
    this.byId.set(m.messageId, old ? { ...old, ...m } : m);
    const parent = m.parentMessageId || NO_PARENT;
    if (old && (old.parentMessageId || NO_PARENT) !== parent) this.detach(old);
    const list = this.children.get(parent) || [];
    if (!list.includes(m.messageId)) {
      list.push(m.messageId);
      list.sort((a, b) => (this.byId.get(a).createdAt || '').localeCompare(this.byId.get(b).createdAt || ''));
      this.children.set(parent, list);
    }
    return this.byId.get(m.messageId);
  }

  detach(m) {
    const parent = m.parentMessageId || NO_PARENT;
    const list = this.children.get(parent) || [];
    this.children.set(parent, list.filter((id) => id !== m.messageId));
  }

  /** Takes message `id` (a placeholder) out of the tree; its parent shows its newest child. */
  drop(id) {
    const m = this.byId.get(id);
    if (!m) return;
    this.detach(m);
    this.byId.delete(id);
    this.chosen.delete(m.parentMessageId || NO_PARENT);
  }

  get(id) {
    return this.byId.get(id);
  }

  siblings(m) {
    return this.children.get(m.parentMessageId || NO_PARENT) || [];
  }

  /** Shows `id` at its fork. */
  choose(id) {
    const m = this.byId.get(id);
    if (!m) return;
    const parent = m.parentMessageId || NO_PARENT;
    this.chosen.set(parent, this.siblings(m).indexOf(id));
  }

  /** Shows `id` and every ancestor of it. */
  reveal(id) {
    let m = this.byId.get(id);
    const seen = new Set();
    while (m && !seen.has(m.messageId)) {
      seen.add(m.messageId);
      this.choose(m.messageId);
      m = this.byId.get(m.parentMessageId);
    }
  }

  /** The shown branch, root first. */
  branch() {
    const out = [];
    const seen = new Set();
    let parent = NO_PARENT;
    for (;;) {
      const kids = this.children.get(parent);
      if (!kids || !kids.length) break;
      let i = this.chosen.get(parent);
      if (i === undefined || i < 0 || i >= kids.length) i = kids.length - 1;
      const id = kids[i];
      if (seen.has(id)) break;
      seen.add(id);
      out.push(this.byId.get(id));
      parent = id;
    }
    // Messages whose parent is missing (a damaged import) are roots of their own.
    if (!out.length) {
      const orphan = [...this.byId.values()].find((m) => !this.byId.has(m.parentMessageId));
      if (orphan && orphan.parentMessageId !== NO_PARENT) {
        this.children.set(NO_PARENT, [orphan.messageId]);
        return this.branch();
      }
    }
    return out;
  }

  /** The last message of the shown branch. */
  leaf() {
    const b = this.branch();
    return b[b.length - 1];
  }
}

/** The text a message shows: its `text`, or the text parts of its content. */
export function textOf(m) {
  if (m.text) return m.text;
  const parts = Array.isArray(m.content) ? m.content : [];
  return parts
    .filter((p) => p.type === 'text')
    .map((p) => (typeof p.text === 'string' ? p.text : p.text?.value || ''))
    .join('\n');
}

/** The reasoning a message carries (its `think` parts). */
export function thinkingOf(m) {
  const parts = Array.isArray(m.content) ? m.content : [];
  return parts.filter((p) => p.type === 'think').map((p) => p.think || '').join('\n');
}
