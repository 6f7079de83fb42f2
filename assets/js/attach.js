// Files for the next message: the attach button and its file picker, files dropped on the
// chat or pasted into the message box, and a chip for each (thumbnail or icon, name, size,
// upload progress, the reason when refused, a remove button). Files are checked against the
// endpoint's limits before they are uploaded; the server checks again, and what it refuses
// is explained on the chip, which stays until it is removed (or the message is sent).

import { h, icon, iconButton, icons, toast } from './dom.js';
import { deleteFiles, fileConfig, filePath, imageSize, limitsFor, refusal, sizeLabel, upload, uuid } from './uploads.js';

/**
 * `target()` (may be async) says where the next message goes: `{endpoint, endpointType,
 * conversationId}`. `onChange()` runs when uploads start or end; `focus()` takes the focus
 * back to the message box when the last chip is removed.
 */
export function attachments({ target, onChange, focus }) {
  const entries = [];
  const list = h('ul', { class: 'file-chips', 'aria-label': 'Files to send', hidden: true });
  const input = h('input', { type: 'file', multiple: true, hidden: true, tabindex: '-1', 'aria-label': 'Files to attach' });
  const button = iconButton('clip', 'Attach files', () => input.click(), { class: 'icon-btn attach-btn' });
  input.addEventListener('change', () => {
    add([...input.files]);
    input.value = '';
  });
  let limits = limitsFor({}, '', '');

  /** Reads the limits of the endpoint chosen now; hides the button where uploads are off. */
  async function refresh() {
    const [cfg, t] = await Promise.all([fileConfig(), target()]);
    limits = limitsFor(cfg, t.endpoint, t.endpointType);
    button.hidden = limits.disabled;
    return t;
  }

  async function add(files) {
    if (!files.length) return;
    const t = await refresh();
    if (limits.disabled) return toast('Files cannot be attached for this model.', 'error');
    for (const file of files) {
      const image = /^image\//.test(file.type);
      const entry = {
        key: uuid(), file, name: file.name || 'file', size: file.size, image, state: 'waiting', error: null, stored: null,
        preview: image ? URL.createObjectURL(file) : null, controller: new AbortController(),
      };
      const kept = entries.filter((e) => e.state !== 'error');
      entry.error = refusal(file, limits, { count: kept.length, bytes: kept.reduce((n, e) => n + e.size, 0) });
      if (!entry.error && !t.endpoint) entry.error = 'Choose a model first.';
      if (entry.error) entry.state = 'error';
      entries.push(entry);
      list.append(chip(entry));
      if (!entry.error) start(entry, t);
    }
    list.hidden = false;
    onChange();
  }

  /** Puts back files already stored (a message that could not be sent). */
  function restore(stored) {
    for (const f of stored) {
      const image = /^image\//.test(f.type);
      const entry = {
        key: f.temp_file_id || uuid(), file: null, name: f.filename || 'file', size: f.bytes || 0, image,
        state: 'done', error: null, stored: f, preview: image ? filePath(f.filepath) : null, controller: new AbortController(),
      };
      entries.push(entry);
      list.append(chip(entry));
    }
    list.hidden = !entries.length;
    onChange();
  }

  async function start(entry, t) {
    entry.state = 'uploading';
    paint(entry);
    try {
      const size = entry.image ? await imageSize(entry.preview) : null;
      entry.stored = await upload(entry.file, entry.key, { ...t, image: entry.image, ...size }, {
        signal: entry.controller.signal,
        onProgress: (p) => { if (entry.progress) entry.progress.value = p; },
      });
      entry.state = 'done';
      // Removed while its last bytes went up: it is on the server all the same.
      if (entry.removed) return deleteFiles([entry.stored.file_id]).catch(() => {});
      if (size) Object.assign(entry.stored, size);
    } catch (e) {
      if (entry.removed) return;
      entry.state = 'error';
      entry.error = e.message;
    }
    paint(entry);
    onChange();
  }

  /** The chip of `entry`, made once; `paint` updates its status. */
  function chip(entry) {
    entry.status = h('span', { class: 'chip-status', 'aria-live': 'polite' });
    entry.el = h('li', { class: 'file-chip composer-chip' },
      entry.preview ? h('img', { class: 'chip-thumb', src: entry.preview, alt: '' }) : h('span', { class: 'chip-icon' }, icon(...icons.file)),
      h('span', { class: 'chip-text' }, h('span', { class: 'file-name', title: entry.name }, entry.name), entry.status),
      iconButton('close', `Remove ${entry.name}`, () => remove(entry), { class: 'icon-btn chip-remove' }));
    paint(entry);
    return entry.el;
  }

  function paint(entry) {
    entry.el.dataset.state = entry.state;
    entry.progress = null;
    if (entry.state === 'error') {
      entry.status.replaceChildren(h('span', { class: 'chip-error', role: 'alert' }, entry.error));
    } else if (entry.state === 'uploading') {
      entry.progress = h('progress', { class: 'chip-progress', max: 1, 'aria-label': `Uploading ${entry.name}` });
      entry.status.replaceChildren(sizeLabel(entry.size), entry.progress);
    } else {
      entry.status.replaceChildren(sizeLabel(entry.size));
    }
  }

  async function remove(entry) {
    const at = entries.indexOf(entry);
    if (at < 0) return;
    entry.removed = true;
    entry.controller.abort();
    entries.splice(at, 1);
    entry.el.remove();
    if (entry.preview) URL.revokeObjectURL(entry.preview);
    list.hidden = !entries.length;
    // Keyboard users stay among the chips, or go back to the message box.
    const next = entries[at] || entries[at - 1];
    if (next) next.el.querySelector('.chip-remove').focus();
    else focus?.();
    onChange();
    if (entry.state === 'done') {
      try {
        await deleteFiles([entry.stored.file_id]);
      } catch (e) {
        toast(`${entry.name} could not be deleted from the server: ${e.message}`, 'error');
      }
    }
  }

  /** Empties the list; `keepOnServer` for files just sent, else uploaded ones are deleted. */
  function clear(keepOnServer) {
    const uploaded = entries.filter((e) => e.state === 'done').map((e) => e.stored.file_id);
    for (const e of entries) {
      e.removed = true;
      e.controller.abort();
      if (e.preview) URL.revokeObjectURL(e.preview);
    }
    entries.length = 0;
    list.replaceChildren();
    list.hidden = true;
    if (!keepOnServer && uploaded.length) deleteFiles(uploaded).catch(() => {});
    onChange();
  }

  return {
    list, button, input, add, restore, refresh,
    enabled: () => !limits.disabled,
    uploading: () => entries.some((e) => e.state === 'uploading'),
    /** The uploaded files, as the server stored them. */
    ready: () => entries.filter((e) => e.state === 'done').map((e) => e.stored),
    /** After sending: the chips go, the files stay (the message has them). */
    sent: () => clear(true),
    /** Leaving the conversation: uploads stop, and files never sent are deleted. */
    discard: () => clear(false),
  };
}

/**
 * Lets files be dropped anywhere on `area`, showing where while they are dragged over it.
 * `onFiles(files)` gets them; `enabled()` says whether files may be attached now.
 */
export function dropZone(area, onFiles, enabled) {
  const zone = h('div', { class: 'drop-zone', hidden: true, 'aria-hidden': 'true' },
    h('div', { class: 'drop-zone-inner' }, icon(...icons.clip), 'Drop files here to attach them'));
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes('Files');
  area.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth += 1;
    zone.hidden = !enabled();
  });
  area.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    // Always taken, so that a file dropped where it cannot go does not open in the tab.
    e.preventDefault();
    e.dataTransfer.dropEffect = enabled() ? 'copy' : 'none';
  });
  area.addEventListener('dragleave', (e) => {
    if (!hasFiles(e)) return;
    depth = Math.max(0, depth - 1);
    if (!depth) zone.hidden = true;
  });
  area.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    zone.hidden = true;
    if (enabled()) onFiles([...e.dataTransfer.files]);
  });
  area.append(zone);
  return zone;
}
