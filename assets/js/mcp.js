// MCP servers as the app knows them: the servers the person may use (`GET /api/mcp/servers`,
// a map of name to its configuration without secrets), the state of their connection
// (`GET /api/mcp/connection/status`), their tools (`GET /api/mcp/tools`), reconnecting
// (`POST /api/mcp/<server>/reinitialize`), deleting a server one added (`DELETE
// /api/mcp/servers/<server>`), and the names of MCP tools (`<tool>_mcp_<server>`).
// Everything is offered only while the role has `MCP_SERVERS.USE`.

import { del, get, post } from './api.js';
import { permissionsOf } from './roles.js';

/** LibreChat's separator in an MCP tool's key (`mcp_delimiter`). */
export const DELIMITER = '_mcp_';

/** `get_current_time_mcp_time` → `{tool: 'get_current_time', server: 'time'}`; null for other tools. */
export function splitToolKey(name) {
  const at = typeof name === 'string' ? name.lastIndexOf(DELIMITER) : -1;
  if (at <= 0 || at + DELIMITER.length >= name.length) return null;
  return { tool: name.slice(0, at), server: name.slice(at + DELIMITER.length) };
}

/** A server's name for people: its `title`, else its name. */
export const titleOf = (server) => server.config?.title || server.name;

/** The role's MCP_SERVERS permissions ({USE, CREATE, ...}). */
export const mcpPermissions = () => permissionsOf('MCP_SERVERS');

/**
 * The servers the person may use, as `[{name, config}]` sorted by name; `menu` keeps only those
 * meant for the chat menu (`chatMenu` not false). Empty without `MCP_SERVERS.USE`.
 */
export async function listServers({ menu = false } = {}) {
  if (!(await mcpPermissions()).USE) return [];
  const map = await get('api/mcp/servers').catch(() => null);
  if (!map || typeof map !== 'object' || Array.isArray(map)) return [];
  return Object.entries(map)
    .filter(([, c]) => c && typeof c === 'object' && !(menu && (c.chatMenu === false || c.consumeOnly)))
    .map(([name, config]) => ({ name, config }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** LibreChat's DELETE permission bit on a resource. */
const DELETE_BIT = 4;

/**
 * The names of the servers among `servers` (people's own, `source: 'user'`) that the person may
 * delete: those whose permission bits (`GET /api/permissions/mcpServer/effective/all`, by
 * `dbId`) hold DELETE. No request when none was added by a person.
 */
export async function deletable(servers) {
  const own = servers.filter((s) => s.config.source === 'user' && s.config.dbId);
  if (!own.length) return new Set();
  const bits = await get('api/permissions/mcpServer/effective/all').catch(() => ({}));
  return new Set(own.filter((s) => (Number(bits?.[s.config.dbId]) & DELETE_BIT) !== 0).map((s) => s.name));
}

/** `DELETE /api/mcp/servers/<server>`: a server the person added is gone, for everyone. */
export const deleteServer = (name) => del(`api/mcp/servers/${encodeURIComponent(name)}`);

/** Each server's connection, by name: `{connectionState, requiresOAuth, authorizationState}`. */
export async function connectionStates() {
  const answer = await get('api/mcp/connection/status').catch(() => null);
  return { states: answer?.connectionStatus || {}, oauthTimeout: answer?.oauthTimeout || 600_000 };
}

/** A connection's state in words. */
export function stateLabel(s) {
  if (!s) return 'unknown';
  if (s.connectionState === 'connected') return 'connected';
  if (s.connectionState === 'connecting') return s.requiresOAuth ? 'signing in…' : 'connecting…';
  if (s.connectionState === 'error') return 'error';
  if (s.authorizationState === 'needs_authorization') return 'needs sign-in';
  return 'disconnected';
}

/** `POST /api/mcp/<server>/reinitialize`: LibreChat's answer (`{success, message, oauthRequired, oauthUrl, flowId, ...}`). */
export const reinitialize = (name) => post(`api/mcp/${encodeURIComponent(name)}/reinitialize`);

/** Which of the server's variables the person has set (`{VAR: bool}`). */
export async function authValueFlags(name) {
  const answer = await get(`api/mcp/${encodeURIComponent(name)}/auth-values`).catch(() => null);
  return answer?.authValueFlags || {};
}

/** Keeps (or with `values` null forgets) the person's variables for a server. */
export function saveVariables(name, values) {
  return post('api/user/plugins', values
    ? { pluginKey: `mcp_${name}`, action: 'install', auth: values }
    : { pluginKey: `mcp_${name}`, action: 'uninstall', auth: {} });
}

/** Every MCP tool the person may give an agent: `[{pluginKey, name, description, server}]`. */
export async function mcpTools() {
  if (!(await mcpPermissions()).USE) return [];
  const answer = await get('api/mcp/tools').catch(() => null);
  const out = [];
  for (const [server, s] of Object.entries(answer?.servers || {})) {
    for (const t of s?.tools || []) {
      if (t && typeof t.pluginKey === 'string') out.push({ pluginKey: t.pluginKey, name: t.name || t.pluginKey, description: t.description || '', server });
    }
  }
  return out;
}

/** The servers chosen for a conversation (`new` before it has an id), kept in this browser. */
export function storedChoice(conversationId) {
  try {
    const v = JSON.parse(localStorage.getItem(`mcp:${conversationId || 'new'}`) || '[]');
    return Array.isArray(v) ? v.filter((s) => typeof s === 'string') : [];
  } catch {
    return [];
  }
}

export function storeChoice(conversationId, names) {
  try {
    const key = `mcp:${conversationId || 'new'}`;
    if (names.length) localStorage.setItem(key, JSON.stringify(names));
    else localStorage.removeItem(key);
  } catch {
    // Storage full or off: the choice lasts this page only.
  }
}
