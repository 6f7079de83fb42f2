// The agents a person may chat with (`GET /api/agents`: theirs, those shared with them and
// the public ones), for the model picker and a new chat's conversation starters; an agent's
// picture, and the names of the marketplace's categories.

import { get, query } from './api.js';
import { h } from './dom.js';
import { filePath } from './uploads.js';

/** The most agents the picker lists (the server's largest page). */
const MOST = 1000;

/** The agents the person may use, most recently changed first; none when they may not. */
export async function usableAgents() {
  try {
    const page = await get(`api/agents${query({ requiredPermission: 1, limit: MOST })}`);
    return Array.isArray(page?.data) ? page.data : [];
  } catch {
    return [];
  }
}

/** An agent's name for people. */
export const agentName = (a) => a?.name || 'Unnamed agent';

/** The agent's picture, or the first letter of its name; `large` for the builder. */
export function agentAvatar(a, { large = false } = {}) {
  const cls = `avatar agent-avatar${large ? ' large' : ''}`;
  const letter = () => h('span', { class: `${cls} initial`, 'aria-hidden': 'true' }, [...agentName(a).trim()][0]?.toUpperCase() || 'A');
  const src = filePath(a?.avatar?.filepath);
  if (!src) return letter();
  const img = h('img', { class: cls, src, alt: large ? `Picture of ${agentName(a)}` : '' });
  img.addEventListener('error', () => img.replaceWith(letter()), { once: true });
  return img;
}

/** LibreChat's names of its own categories (its labels are translation keys). */
const NAMES = {
  general: 'General',
  hr: 'Human resources',
  rd: 'Research & development',
  finance: 'Finance',
  it: 'IT',
  sales: 'Sales',
  aftersales: 'After sales',
  promoted: 'Promoted',
  all: 'All',
};

/** A category's name: LibreChat's own by its value, else the label the administrator gave. */
export function categoryName(c) {
  const value = typeof c === 'string' ? c : c?.value;
  const label = typeof c === 'string' ? '' : c?.label || '';
  if (label && !label.startsWith('com_')) return label;
  if (NAMES[value]) return NAMES[value];
  const words = String(value || '').replace(/_/g, ' ');
  return words ? words[0].toUpperCase() + words.slice(1) : '';
}

/** `GET /api/agents/categories`, without `all`; none when they cannot be read. */
export async function agentCategories() {
  const list = await get('api/agents/categories').catch(() => []);
  return (Array.isArray(list) ? list : []).filter((c) => c.value !== 'all');
}
