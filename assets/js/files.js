// The files of a sent message: images as thumbnails (served to the session by this server),
// documents as chips with their name and type that download when pressed.

import { h, icon, icons, toast } from './dom.js';
import { filePath, saveFile, typeLabel } from './uploads.js';

/** The list of `files` (TFile-like: file_id, filename, filepath, type, width, height). */
export function messageFiles(files) {
  return h('ul', { class: 'file-chips in-message', 'aria-label': 'Attached files' },
    files.filter((f) => f && typeof f === 'object').map((f) => h('li', {}, fileChip(f))));
}

function fileChip(f) {
  const name = String(f.filename || 'file');
  const path = filePath(f.filepath);
  const type = typeLabel(f.type, name);
  if (/^image\//.test(f.type) && path) {
    return h('a', { class: 'file-thumb', href: path, target: '_blank', rel: 'noopener', title: name, 'aria-label': `Open image ${name}` },
      h('img', { src: path, alt: name, loading: 'lazy', width: f.width || undefined, height: f.height || undefined }));
  }
  const text = h('span', { class: 'chip-text' }, h('span', { class: 'file-name' }, name), h('span', { class: 'chip-status' }, type));
  // A file from elsewhere (an import) is shown, not fetched: the token goes to this server only.
  if (!path) return h('span', { class: 'file-chip' }, h('span', { class: 'chip-icon' }, icon(...icons.file)), text);
  return h('button', {
    type: 'button', class: 'file-chip', title: `Download ${name}`, 'aria-label': `Download ${name} (${type})`,
    onclick: async (e) => {
      const b = e.currentTarget;
      b.setAttribute('aria-busy', 'true');
      try {
        await saveFile(f);
      } catch (err) {
        toast(err.message, 'error');
      } finally {
        b.removeAttribute('aria-busy');
      }
    },
  }, h('span', { class: 'chip-icon' }, icon(...icons.file)), text, icon(...icons.download));
}
