// What the person's role may do: LibreChat's role permissions (`GET /api/roles/:role`), read
// afresh by each screen, so it offers only what the server would allow now.

import { currentUser, get } from './api.js';

/** The permissions of one type (`PROMPTS`, `MEMORIES`, ...) of the person's role; {} when unknown. */
export async function permissionsOf(type) {
  const role = currentUser()?.role || 'USER';
  const answer = await get(`api/roles/${encodeURIComponent(role)}`).catch(() => null);
  return answer?.permissions?.[type] || {};
}
