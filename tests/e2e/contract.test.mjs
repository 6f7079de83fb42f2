// The server's answers, checked with the zod schemas of `librechat-data-provider`, the library
// LibreChat's web client parses them with (the version built into the client we test). Run by
// tests/client_contract.rs against the real server and a fake OpenAI provider (BASE_URL). A
// field that is `null` where the schema wants a number, or missing where it is required,
// fails here before it breaks the client.

import * as lc from 'librechat-data-provider';

const BASE = process.env.BASE_URL;
if (!BASE) throw new Error('BASE_URL is not set (run through `cargo test --test client_contract`)');
const ROOT = '00000000-0000-0000-0000-000000000000';
const failures = [];
let token;

async function api(method, path, body) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const resp = await fetch(new URL(path.replace(/^\//, ''), BASE), {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${text}`);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Parses `value` with `schema`; a failure is recorded with what was parsed. */
function check(what, schema, value) {
  const result = schema.safeParse(value);
  if (result.success) {
    console.log(`ok - ${what}`);
  } else {
    failures.push(`${what}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n    ${JSON.stringify(value).slice(0, 400)}`);
  }
}

/**
 * `list`, after recording a failure unless it holds exactly `n` items: a check in a loop over
 * an empty list would check nothing.
 */
function counted(what, n, list) {
  if (!Array.isArray(list) || list.length !== n) {
    failures.push(`${what}: ${n} item(s) expected, got ${JSON.stringify(list).slice(0, 400)}`);
    return Array.isArray(list) ? list : [];
  }
  return list;
}

/**
 * Checks `value` against a shape the library gives only as a TypeScript type (no zod schema):
 * `test(value)` returns what is wrong, or nothing.
 */
function shaped(what, value, test) {
  const wrong = test(value);
  if (wrong) failures.push(`${what}: ${wrong}\n    ${JSON.stringify(value).slice(0, 400)}`);
  else console.log(`ok - ${what}`);
}

/** Starts a turn as the client does and returns the stream's frames. */
async function turn(body) {
  const { streamId } = await api('POST', '/api/agents/chat/openAI', body);
  const text = await api('GET', `/api/agents/chat/stream/${streamId}`);
  return String(text).split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
}

const who = { name: 'Contract Tester', email: 'contract@example.org', password: 'correct horse battery' };
await api('POST', '/api/auth/register', { ...who, confirm_password: who.password });
token = (await api('POST', '/api/auth/login', { email: who.email, password: who.password })).token;

// A chat: the events the client reads, and the messages and conversation it loads after.
const frames = await turn({ text: 'How do tides work?', messageId: 'u1', parentMessageId: ROOT, conversationId: null,
  model: 'gpt-4o', endpoint: 'openAI' });
const created = frames.find((f) => f.created);
check('the created event: its message', lc.tMessageSchema, created.message);
const last = frames.at(-1);
check('the final event: requestMessage', lc.tMessageSchema, last.requestMessage);
check('the final event: responseMessage', lc.tMessageSchema, last.responseMessage);
check('the final event: conversation', lc.tConversationSchema, last.conversation);
const convo = last.conversation.conversationId;

// Regenerate, as the client sends it.
const again = await turn({ text: 'How do tides work?', isRegenerate: true, parentMessageId: ROOT,
  overrideParentMessageId: 'u1', conversationId: convo, model: 'gpt-4o', endpoint: 'openAI' });
check('a regenerated answer', lc.tMessageSchema, again.at(-1).responseMessage);

// The question and its two answers.
for (const m of counted('GET /api/messages', 3, await api('GET', `/api/messages/${convo}`))) {
  check(`GET /api/messages: ${m.messageId}`, lc.tMessageSchema, m);
}
const { conversations } = await api('GET', '/api/convos');
for (const c of counted('GET /api/convos', 1, conversations)) check('GET /api/convos: a conversation', lc.tConversationSchema, c);
check('GET /api/convos/:id', lc.tConversationSchema, await api('GET', `/api/convos/${convo}`));

// Presets, with no order given.
await api('POST', '/api/presets', { title: 'Terse', endpoint: 'openAI', model: 'gpt-4o', temperature: 0.2 });
for (const p of counted('GET /api/presets', 1, await api('GET', '/api/presets'))) check('GET /api/presets: a preset', lc.tPresetSchema, p);

// Bookmarks.
check('POST /api/tags', lc.tConversationTagSchema, await api('POST', '/api/tags', { tag: 'Oceans', description: 'Salt water' }));
await api('PUT', `/api/tags/convo/${convo}`, { tags: ['Oceans', 'Moon', 'Sun'] });
for (const t of counted('GET /api/tags', 3, await api('GET', '/api/tags'))) check(`GET /api/tags: ${t.tag}`, lc.tConversationTagSchema, t);
check('DELETE /api/tags/:tag', lc.tConversationTagSchema, await api('DELETE', '/api/tags/Sun'));

// A shared link, as its reader gets it.
const { shareId } = await api('POST', `/api/share/${convo}`, {});
const shared = await api('GET', `/api/share/${shareId}`);
// The branch to the newest answer: the question and that answer.
for (const m of counted('GET /api/share/:id', 2, shared.messages)) check('GET /api/share/:id: a message', lc.tMessageSchema, m);

// What the client loads on every page.
check('GET /api/files/config', lc.fileConfigSchema, await api('GET', '/api/files/config'));
check('GET /api/roles/USER', lc.roleSchema, await api('GET', '/api/roles/USER'));
// Favorites (`TUserFavorite[]`): a model with its endpoint, an agent, or a model spec.
const favorites = [{ model: 'gpt-4o', endpoint: 'openAI' }, { agentId: 'agent_x' }, { spec: 'fast' }];
await api('POST', '/api/user/settings/favorites', { favorites });
shaped('GET /api/user/settings/favorites', await api('GET', '/api/user/settings/favorites'), (list) => {
  if (!Array.isArray(list) || list.length !== favorites.length) return 'not the favorites saved';
  const keys = new Set(['agentId', 'model', 'endpoint', 'spec']);
  const bad = list.find((f) => typeof f !== 'object' || !Object.entries(f).every(([k, v]) => keys.has(k) && typeof v === 'string'));
  return bad && `not a TUserFavorite: ${JSON.stringify(bad)}`;
});
// Token config (`TTokenConfigMap`): endpoint → model → numbers (context, prompt, ...).
shaped('GET /api/endpoints/token-config', await api('GET', '/api/endpoints/token-config'), (map) => {
  const fields = new Set(['context', 'prompt', 'completion', 'cacheWrite', 'cacheRead']);
  const models = Object.values(map ?? {}).flatMap((byModel) => Object.entries(byModel ?? {}));
  if (!models.length) return 'no model at all';
  const bad = models.find(([, t]) => typeof t !== 'object' || !Object.entries(t).every(([k, v]) => fields.has(k) && typeof v === 'number'));
  return bad && `not TModelTokenomics: ${JSON.stringify(bad)}`;
});
const banner = await api('GET', '/api/banner');
if (banner) check('GET /api/banner', lc.tBannerSchema, banner);

if (failures.length) {
  console.log(failures.map((f) => `not ok - ${f}`).join('\n'));
  process.exit(1);
}
