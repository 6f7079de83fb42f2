// The signed-in person's avatar: shown where the app shows who is signed in (the sidebar, the
// Account settings), and changed in Account settings with `POST /api/files/images/avatar`, as
// LibreChat's client sends it (`file`, `manual: true`). The server makes it square and small;
// the browser loads it with the session's cookie, the server's `/images/...` being the owner's
// only.

import { accessToken, currentUser, request, setSession } from './api.js';
import { h, mount, toast } from './dom.js';
import { fileConfig, filePath, sizeLabel } from './uploads.js';

const MB = 1024 * 1024;
/** LibreChat's default `avatarSizeLimit`, when the server's config cannot be read. */
const DEFAULT_LIMIT_MB = 2;
const TYPES = 'image/png,image/jpeg,image/gif,image/webp';

/**
 * Where `user`'s avatar loads from: a path of this server, or a sign-in provider's https
 * picture (the page's policy lists the providers' hosts); null for none.
 */
function source(user) {
  const a = user?.avatar;
  if (typeof a !== 'string' || !a) return null;
  return /^https:\/\//i.test(a) ? a : filePath(a);
}

/** The first letter of the person's name, for when there is no picture. */
function initial(user) {
  const name = user?.name || user?.username || user?.email || '?';
  return [...name.trim()][0]?.toUpperCase() || '?';
}

/**
 * `user`'s avatar (`large` for settings), or their initial when there is no picture or it
 * does not load. Each is marked, so a new avatar shows everywhere at once ([`setAvatar`]).
 */
export function avatar(user, { large = false } = {}) {
  const cls = `avatar${large ? ' large' : ''}`;
  const letter = () => h('span', { class: `${cls} initial`, 'aria-hidden': 'true', 'data-user-avatar': large ? 'large' : '' }, initial(user));
  const src = source(user);
  if (!src) return letter();
  const img = h('img', { class: cls, src, alt: large ? 'Your profile picture' : '', 'data-user-avatar': large ? 'large' : '' });
  img.addEventListener('error', () => img.replaceWith(letter()), { once: true });
  return img;
}

/** Records the new avatar URL in the session and shows it wherever the avatar is shown. */
function setAvatar(url) {
  const user = { ...currentUser(), avatar: url };
  setSession(accessToken(), user);
  for (const el of document.querySelectorAll('[data-user-avatar]')) {
    el.replaceWith(avatar(user, { large: el.dataset.userAvatar === 'large' }));
  }
}

/** The Account settings' "Profile picture" section. */
export function avatarSection(user) {
  const status = h('p', { class: 'muted', role: 'status' });
  const input = h('input', { type: 'file', accept: TYPES, 'aria-label': 'Choose a profile picture', hidden: true });
  const choose = h('button', { type: 'button', onclick: () => input.click() }, 'Change picture');
  input.addEventListener('change', async () => {
    const file = input.files[0];
    input.value = '';
    if (!file) return;
    const cfg = await fileConfig();
    const limit = (typeof cfg?.avatarSizeLimit === 'number' ? cfg.avatarSizeLimit : DEFAULT_LIMIT_MB) * MB;
    if (file.size === 0) return mount(status, 'This file is empty.');
    if (file.size > limit) return mount(status, `This picture is ${sizeLabel(file.size)}; the limit is ${sizeLabel(limit)}.`);
    const form = new FormData();
    form.append('file', file, encodeURIComponent(file.name || 'avatar'));
    form.append('manual', 'true');
    choose.disabled = true;
    mount(status, 'Uploading…');
    try {
      const { url } = await request('POST', 'api/files/images/avatar', form);
      setAvatar(url);
      mount(status, 'Profile picture updated.');
    } catch (e) {
      mount(status);
      toast(e.message, 'error');
    } finally {
      choose.disabled = false;
    }
  });
  return h('section', { class: 'avatar-settings' }, h('h3', {}, 'Profile picture'),
    h('div', { class: 'row' }, avatar(user, { large: true }), choose, input),
    h('p', { class: 'muted' }, 'PNG, JPEG, GIF or WebP. It is cut to a square and shown to you only.'),
    status);
}
