// The message box: Enter sends, Shift+Enter starts a new line (Escape, handled by the app,
// stops the answer). The button sends, or stops while an answer streams. Files attached with
// the paperclip, pasted or dropped ride along; sending waits until every upload has finished
// (the button is disabled meanwhile), then takes the uploaded ones, and text is optional.
// `/` at the start opens the prompts picker (slash.js).

import { h, icon, icons, toast } from './dom.js';
import { attachments } from './attach.js';
import { slashPicker } from './slash.js';

/**
 * `onSend(text, files)`, files as stored (TFile); `target()` says where they go (attach.js);
 * `below` goes under the message box (the tool toggles).
 */
export function composer({ onSend, onStop, target, below = null }) {
  const area = h('textarea', {
    id: 'composer-input', class: 'composer-input', rows: 1,
    placeholder: 'Message', 'aria-label': 'Message',
  });
  let busy = false;
  const button = h('button', { type: 'submit', class: 'send-btn', 'aria-label': 'Send message', title: 'Send message' }, icon(...icons.send));
  const files = attachments({ target, onChange: () => update(), focus: () => area.focus() });
  const resize = () => {
    area.style.height = 'auto';
    area.style.height = `${Math.min(area.scrollHeight, 240)}px`;
  };
  const send = () => {
    if (busy) return onStop();
    if (files.uploading()) return toast('The files are still uploading; send again when they are done.');
    const text = area.value;
    const ready = files.ready();
    if (!text.trim() && !ready.length) return;
    area.value = '';
    resize();
    files.sent();
    onSend(text, ready);
  };
  /** The button waits for uploads, unless it is the stop button. */
  function update() {
    const waiting = !busy && files.uploading();
    button.disabled = waiting;
    button.title = busy ? 'Stop generating' : waiting ? 'Waiting for the files to upload' : 'Send message';
  }
  const setText = (t) => {
    area.value = t;
    resize();
    area.setSelectionRange(t.length, t.length);
  };
  // Before the Enter handler: a key the picker takes is not a send.
  const slash = slashPicker(area, { onText: setText });
  area.addEventListener('input', resize);
  area.addEventListener('keydown', (e) => {
    if (e.defaultPrevented) return;
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (!busy) send();
    }
  });
  area.addEventListener('paste', (e) => {
    const pasted = [...(e.clipboardData?.files || [])];
    if (!pasted.length || !files.enabled()) return;
    // A screenshot comes alone; text copied with a picture (a web page) is pasted as text too.
    if (!e.clipboardData.types.includes('text/plain')) e.preventDefault();
    files.add(pasted);
  });
  const form = h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); send(); } },
    slash.el, files.list, h('div', { class: 'composer-row' }, files.button, area, button), below, files.input);
  return {
    el: form,
    files,
    focus: () => area.focus(),
    setText,
    /** Gives back a message that could not be sent, unless something new was written. */
    restore(text, stored) {
      if (area.value.trim() || files.ready().length) return;
      area.value = text;
      resize();
      files.restore(stored || []);
    },
    /** While an answer streams the button stops it. */
    setBusy(b) {
      busy = b;
      button.replaceChildren(icon(...(b ? icons.stop : icons.send)));
      button.setAttribute('aria-label', b ? 'Stop generating' : 'Send message');
      button.classList.toggle('stop', b);
      update();
    },
  };
}
