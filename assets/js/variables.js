// A prompt's variables, as LibreChat's client reads them. The special ones are filled without
// asking (its data-provider's `replaceSpecialVars`): `{{current_date}}` is `2025-06-01
// (Sunday)`, `{{current_datetime}}` `2025-06-01 14:05:09 +02:00 (Sunday)` (local time),
// `{{iso_datetime}}` the UTC instant in ISO 8601, `{{current_user}}` the person's name. Any
// other `{{name}}` is asked for in a dialog, and `{{name:a|b|c}}` as a choice among a, b, c;
// a variable left empty stays as it was written.

import { h } from './dom.js';

const SPECIAL = new Set(['current_date', 'current_user', 'iso_datetime', 'current_datetime']);
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const pad = (n) => String(n).padStart(2, '0');

/** `text` with the special variables filled for `user` at `now`. */
export function fillSpecial(text, user, now = new Date()) {
  if (!text) return text;
  const day = WEEKDAYS[now.getDay()];
  const date = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  const time = `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}`;
  const offset = -now.getTimezoneOffset();
  const zone = `${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  // Replacer functions: a name or value with `$&` in it is text, not a pattern.
  let out = text
    .replace(/{{\s*current_date\s*}}/gi, () => `${date} (${day})`)
    .replace(/{{\s*current_datetime\s*}}/gi, () => `${date} ${time} ${zone} (${day})`)
    .replace(/{{\s*iso_datetime\s*}}/gi, () => now.toISOString());
  if (user?.name) out = out.replace(/{{\s*current_user\s*}}/gi, () => user.name);
  return out;
}

/** Whether `text` has a variable to ask for (one that is not special). */
export function hasVariables(text) {
  return [...(text || '').matchAll(/{{([^{}]+?)}}/g)].some((m) => !SPECIAL.has(m[1].trim().toLowerCase()));
}

/** The variables of `text`, each once, in order: what is written between the braces. */
export function variablesOf(text) {
  return [...new Set([...(text || '').matchAll(/{{(.*?)}}/g)].map((m) => m[1]))];
}

/** How a variable is asked for: `{label, options}`, options only for `name:a|b`. */
export function fieldOf(raw) {
  const t = raw.trim();
  const [name, choices] = t.split(':');
  if (t.includes(':') && choices?.includes('|')) return { label: name.trim(), options: choices.split('|').map((o) => o.trim()) };
  return { label: t, options: null };
}

/** `text` with each `{{raw}}` of `values` (a Map) replaced by its value, unless empty. */
export function fillVariables(text, values) {
  let out = text;
  for (const [raw, value] of values) {
    if (value) out = out.split(`{{${raw}}}`).join(value);
  }
  return out;
}

/** The text as it will be sent, with the values given so far in bold. */
function preview(text, values) {
  return text.split(/({{.*?}})/g).filter(Boolean).map((piece) => {
    const value = values.get(piece.slice(2, -2));
    return piece.startsWith('{{') && piece.endsWith('}}') && value ? h('strong', {}, value) : piece;
  });
}

/**
 * Asks for the variables of `text` (special ones already filled) in a dialog titled `title`.
 * Resolves to the filled text, or null when the person cancels.
 */
export function askVariables(title, text) {
  const values = new Map(variablesOf(text).map((raw) => [raw, '']));
  const shown = h('div', { class: 'prompt-preview', 'aria-label': 'Preview', role: 'region' });
  const redraw = () => shown.replaceChildren(...preview(text, values));
  const fields = [...values.keys()].map((raw, i) => {
    const { label, options } = fieldOf(raw);
    const id = `prompt-var-${i}`;
    const input = options
      ? h('select', { id }, h('option', { value: '' }, `Choose ${label}…`), options.map((o) => h('option', { value: o }, o)))
      : h('textarea', { id, rows: 2 });
    input.addEventListener(options ? 'change' : 'input', () => {
      values.set(raw, input.value);
      redraw();
    });
    return h('div', { class: 'field' }, h('label', { for: id }, label), input);
  });
  redraw();
  return new Promise((resolve) => {
    let result = null;
    const form = h('form', { method: 'dialog', class: 'variables-form', onsubmit: () => { result = fillVariables(text, values); } },
      shown, fields,
      h('div', { class: 'dialog-buttons' },
        h('button', { type: 'submit', class: 'primary' }, 'Use prompt'),
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel')));
    const dialog = h('dialog', { class: 'dialog', 'aria-label': title }, h('h2', {}, title), form);
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector('textarea, select')?.focus();
  });
}
