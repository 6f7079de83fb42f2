// The message box: Enter sends, Shift+Enter starts a new line (Escape, handled by the app,
// stops the answer). The button sends, or stops while an answer streams.

import { h, icon, icons } from './dom.js';

export function composer({ onSend, onStop }) {
  const area = h('textarea', {
    id: 'composer-input', class: 'composer-input', rows: 1,
    placeholder: 'Message', 'aria-label': 'Message',
  });
  let busy = false;
  const button = h('button', { type: 'submit', class: 'send-btn', 'aria-label': 'Send message', title: 'Send message' }, icon(...icons.send));
  const resize = () => {
    area.style.height = 'auto';
    area.style.height = `${Math.min(area.scrollHeight, 240)}px`;
  };
  const send = () => {
    if (busy) return onStop();
    const text = area.value;
    if (!text.trim()) return;
    area.value = '';
    resize();
    onSend(text);
  };
  area.addEventListener('input', resize);
  area.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (!busy) send();
    }
  });
  const form = h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); send(); } }, area, button);
  return {
    el: form,
    focus: () => area.focus(),
    setText: (t) => {
      area.value = t;
      resize();
    },
    /** While an answer streams the button stops it. */
    setBusy(b) {
      busy = b;
      button.replaceChildren(icon(...(b ? icons.stop : icons.send)));
      button.setAttribute('aria-label', b ? 'Stop generating' : 'Send message');
      button.title = b ? 'Stop generating' : 'Send message';
      button.classList.toggle('stop', b);
    },
  };
}
