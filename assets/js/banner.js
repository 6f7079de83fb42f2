// The site banner (`GET /api/banner`), above the app until dismissed (unless the admin made it
// persistable). A dismissal is remembered per banner id, which changes with the message.

import { get } from './api.js';
import { h } from './dom.js';

const KEY = 'dismissedBanners';

export async function bannerBar() {
  let b = null;
  try {
    b = await get('api/banner');
  } catch {
    return null;
  }
  if (!b?.message) return null;
  const dismissed = JSON.parse(localStorage.getItem(KEY) || '[]');
  if (dismissed.includes(b.bannerId)) return null;
  const bar = h('div', { class: 'banner', role: 'region', 'aria-label': 'Announcement' }, h('p', {}, b.message),
    b.persistable ? null : h('button', {
      type: 'button', class: 'icon-btn', 'aria-label': 'Dismiss announcement',
      onclick: () => {
        localStorage.setItem(KEY, JSON.stringify([...dismissed, b.bannerId].slice(-20)));
        bar.remove();
      },
    }, '✕'));
  return bar;
}
