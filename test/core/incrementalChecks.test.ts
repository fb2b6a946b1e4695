import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzePolicy, catalogFromToolsList, SemanticCache, ToolCatalog, type CatalogFile, type PolicyDiagnostic } from '../../core';

/** A seeded generator, so that a failure names the edit that caused it and can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
}

const VERBS = ['list', 'get', 'delete', 'send', 'run', 'create'];
const OBJECTS = ['contact', 'tag', 'file', 'campaign'];

function catalogOf(): ToolCatalog {
  const files: CatalogFile[] = [];
  for (const server of ['crm', 'mail', 'files']) {
    const tools = [];
    for (const verb of VERBS) {
      for (const object of OBJECTS) {
        for (let n = 0; n < 4; n++) tools.push({ name: `${server}_${verb}_${object}_${n}`, inputSchema: { type: 'object', properties: { id: { type: 'integer' }, note: { type: 'string' } } } });
      }
    }
    files.push(catalogFromToolsList(server, tools));
  }
  return new ToolCatalog(files);
}

type Pick = <T>(list: readonly T[]) => T;

function ruleKey(pick: Pick, next: () => number): string {
  const server = pick(['crm', 'mail', 'files', 'crn']);
  const name = `${server}_${pick(VERBS)}_${pick(OBJECTS)}`;
  const roll = next();
  if (roll < 0.15) return `${name}_*`;
  // Two globs with as many literal characters that overlap: the one written first wins a tie.
  if (roll < 0.3) return next() < 0.5 ? `${server}_*_tag_${Math.floor(next() * 2)}` : `${server}_${pick(['get', 'run'])}_*_${Math.floor(next() * 2)}`;
  if (roll < 0.35) return `${server}_*`;
  if (roll < 0.4) return `${name.replace('_', '')}_1`; // a typo
  return `${name}_${Math.floor(next() * 4)}`;
}

function ruleBody(pick: Pick): Record<string, unknown> {
  return pick<Record<string, unknown>>([
    {},
    { action: 'deny' },
    { action: 'approve', reason: 'ask first' },
    { limits: [{ counter: 'shared', window: 'minute', max: 5 }] },
    { limits: [{ counter: 'shared', window: 60, max: 6 }] },
    { validate_input: true, arguments: { properties: { id: { type: 'integer' }, nope: {} }, required: ['id'] } },
    { arguments: { type: 'nonsense' } },
  ]);
}

type Policy = { version: '1'; default?: string; hide?: string[]; tools: Record<string, unknown>; servers: Record<string, { default?: string; tools: Record<string, unknown> }> };

/** One structural edit of the kinds an author makes: add, remove, rename, reorder, change a rule; change a default or hide. */
function editPolicy(policy: Policy, pick: Pick, next: () => number): void {
  const servers = Object.keys(policy.servers);
  const section = next() < 0.6 || servers.length === 0 ? policy.tools : policy.servers[pick(servers)]!.tools;
  const keys = Object.keys(section);
  const roll = next();
  if (roll < 0.3 || keys.length === 0) section[ruleKey(pick, next)] = ruleBody(pick);
  else if (roll < 0.45) delete section[pick(keys)];
  else if (roll < 0.6) section[pick(keys)] = ruleBody(pick);
  else if (roll < 0.7) {
    const key = pick(keys);
    const body = section[key];
    delete section[key];
    section[ruleKey(pick, next)] = body;
  } else if (roll < 0.8) {
    // Move a rule to the end: the order of globs decides ties.
    const key = pick(keys);
    const body = section[key];
    delete section[key];
    section[key] = body;
  } else if (roll < 0.87) policy.default = pick(['allow', 'deny', 'approve']);
  else if (roll < 0.93) policy.hide = next() < 0.5 ? [] : [`${pick(['crm', 'mail'])}_${pick(VERBS)}_*`];
  else if (roll < 0.97) policy.servers[pick(['crm', 'mail', 'mial'])] = { default: pick(['allow', 'deny']), tools: {} };
  else if (servers.length > 0) delete policy.servers[pick(servers)];
}

/** A keystroke somewhere: the text may stop parsing, as it does while a key is typed. */
function editText(text: string, pick: Pick, next: () => number): string {
  const at = Math.floor(next() * text.length);
  if (next() < 0.5) return text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 3));
  return text.slice(0, at) + pick(['"', '*', 'x', '_', ',', '}', '{ "action": "deny" }', '"crm_get_tag_1": {},']) + text.slice(at);
}

function comparable(diagnostics: readonly PolicyDiagnostic[]): unknown[] {
  return diagnostics.map((diagnostic) => ({ ...diagnostic }));
}

describe('incremental semantic checks', () => {
  const catalog = catalogOf();

  it('give exactly what a fresh full analysis gives after every edit of a seeded random sequence', () => {
    for (const seed of [1, 7, 42]) {
      const next = random(seed);
      const pick: Pick = (list) => list[Math.floor(next() * list.length)]!;
      const policy: Policy = { version: '1', default: 'deny', tools: {}, servers: { crm: { tools: {} } } };
      for (let rule = 0; rule < 40; rule++) editPolicy(policy, pick, next);
      const cache = new SemanticCache();
      let text = JSON.stringify(policy, null, 2);
      let nonEmpty = 0;
      for (let step = 0; step < 150; step++) {
        if (step % 3 === 2) text = editText(text, pick, next);
        else {
          editPolicy(policy, pick, next);
          text = JSON.stringify(policy, null, 2);
        }
        const incremental = analyzePolicy(text, { catalog, semanticCache: cache }).diagnostics;
        const full = analyzePolicy(text, { catalog }).diagnostics;
        assert.deepEqual(comparable(incremental), comparable(full), `seed ${seed}, step ${step}:\n${text}`);
        if (full.some((diagnostic) => diagnostic.code !== 'syntax')) nonEmpty++;
      }
      // The sequence reaches the catalog checks, not only syntax errors.
      assert.ok(nonEmpty > 100, `only ${nonEmpty} steps had checks to compare`);
    }
  });

  it('keep a server’s rules apart from the top-level rules, whatever the server is named', () => {
    const next = random(11);
    const pick: Pick = (list) => list[Math.floor(next() * list.length)]!;
    // Not in the catalog, so its rules are resolved against every tool, as the top-level ones are.
    const policy: Policy = { version: '1', default: 'allow', tools: {}, servers: { '\u0000top': { tools: {} } } };
    const cache = new SemanticCache();
    for (let step = 0; step < 150; step++) {
      editPolicy(policy, pick, next);
      policy.servers['\u0000top'] ??= { tools: {} };
      const text = JSON.stringify(policy, null, 2);
      const incremental = analyzePolicy(text, { catalog, semanticCache: cache }).diagnostics;
      assert.deepEqual(comparable(incremental), comparable(analyzePolicy(text, { catalog }).diagnostics), `step ${step}:\n${text}`);
    }
  });

  it('see that moving a glob changes who wins a tie, though no rule changed', () => {
    const cache = new SemanticCache();
    // Both have 11 literal characters and both match crm_get_tag_0: the one written first decides it.
    const first = '{ "version": "1", "tools": { "crm_*t_tag_0": {}, "crm_g*_tag_0": {} } }';
    const moved = '{ "version": "1", "tools": { "crm_g*_tag_0": {}, "crm_*t_tag_0": {} } }';
    const shadowed = (text: string): string[] =>
      analyzePolicy(text, { catalog, semanticCache: cache }).diagnostics.filter((diagnostic) => diagnostic.code === 'shadowed-rule').map((diagnostic) => String(diagnostic.path[1]));
    assert.deepEqual(shadowed(first), ['crm_g*_tag_0']);
    assert.deepEqual(shadowed(moved), []);
    assert.deepEqual(shadowed(first), ['crm_g*_tag_0']);
  });

  it('follow a new catalog: the same text against another catalog is checked against that one', () => {
    const cache = new SemanticCache();
    const text = JSON.stringify({ version: '1', tools: { crm_get_tag_1: {}, 'crm_send_*': {}, crm_list_tag_9: {} } });
    const before = analyzePolicy(text, { catalog, semanticCache: cache }).diagnostics.map((diagnostic) => diagnostic.code);
    assert.ok(before.includes('unknown-tool'), before.join(', '));
    const bigger = new ToolCatalog([catalogFromToolsList('crm', [{ name: 'crm_list_tag_9', inputSchema: { type: 'object' } }, { name: 'crm_get_tag_1', inputSchema: { type: 'object' } }])]);
    const after = analyzePolicy(text, { catalog: bigger, semanticCache: cache }).diagnostics;
    assert.deepEqual(comparable(after), comparable(analyzePolicy(text, { catalog: bigger }).diagnostics));
    assert.ok(!after.some((diagnostic) => diagnostic.message.includes('"crm_list_tag_9"')), JSON.stringify(after));
  });
});
