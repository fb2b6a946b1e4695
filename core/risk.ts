/**
 * Risk of a tool: MCP annotations decide when present; otherwise the verbs in its name
 * (and, where it is English, its description). Names must suffice: some servers describe
 * their tools in other languages.
 */

export type RiskClass = 'read' | 'write' | 'destructive' | 'execute';
export type RiskSeverity = 'low' | 'medium' | 'high' | 'critical';

export interface Risk {
  class: RiskClass;
  severity: RiskSeverity;
  why: string;
}

export interface ToolAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
  title?: string;
}

export interface ClassifiableTool {
  name: string;
  description?: string;
  annotations?: ToolAnnotations;
}

interface VerbRisk {
  class: RiskClass;
  severity: RiskSeverity;
}

const VERBS: Record<string, VerbRisk> = {};
function verbs(words: string, risk: VerbRisk): void {
  for (const word of words.split(' ')) VERBS[word] = risk;
}
verbs('list get retrieve return find search read show view describe query count lookup check validate preview inspect stats status fetch browse download export generate render print echo ping info tail head diff compare calculate sum summarize annotate', { class: 'read', severity: 'low' });
verbs('create add update edit write set put patch save insert upsert attach detach assign unassign tag untag move rename copy pause enable disable upload import modify change replace append mark merge link unlink register toggle archive restore subscribe', { class: 'write', severity: 'medium' });
verbs('delete remove destroy revoke unsubscribe cancel kill terminate reset clear', { class: 'destructive', severity: 'high' });
verbs('drop purge erase wipe truncate', { class: 'destructive', severity: 'critical' });
verbs('send resume start publish trigger launch deploy broadcast dispatch notify email mail post push transfer pay charge refund invite schedule invoke call webhook sms', { class: 'execute', severity: 'high' });
verbs('run exec execute eval shell command spawn script', { class: 'execute', severity: 'critical' });

/** Splits snake_case, kebab-case, dotted and camelCase names into lower-case words. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word.length > 0)
    .map((word) => word.toLowerCase());
}

/**
 * Things that, once made or changed, have the server send data to an address someone chose:
 * creating one is an act outside the server, not a mere write.
 */
const OUTBOUND_OBJECTS = new Set(['webhook', 'webhooks', 'hook', 'hooks', 'callback', 'callbacks', 'forwarder', 'forwarders', 'integration', 'integrations']);

/**
 * Nouns that name data a tool hands back; a name made only of words without a verb that ends
 * in one of them reads it ("custom_fields", "dashboard_stats").
 */
const DATA_NOUNS = new Set(['fields', 'settings', 'options', 'metadata', 'schema', 'schemas', 'config', 'configuration', 'properties', 'stats', 'statistics', 'info', 'details', 'version', 'capabilities', 'types', 'summary', 'overview', 'report']);

/** The first word that is a known verb decides: names read `<prefix>_<verb>_<object>`. */
function riskFromWords(words: readonly string[]): { risk: VerbRisk; verb: string } | undefined {
  for (const word of words) {
    const risk = verbRisk(word);
    if (risk) return { risk, verb: word };
  }
  return undefined;
}

function riskFromName(name: string): Risk | undefined {
  const words = nameWords(name);
  const found = riskFromWords(words);
  if (found) {
    const object = words.slice(words.indexOf(found.verb) + 1).find((word) => OUTBOUND_OBJECTS.has(word));
    if (found.risk.class === 'write' && object !== undefined) {
      return { class: 'execute', severity: 'high', why: `name has the verb "${found.verb}" on "${object}": the server will send data to an address it is given` };
    }
    return { ...found.risk, why: `name has the verb "${found.verb}"` };
  }
  const last = words[words.length - 1];
  if (last !== undefined && DATA_NOUNS.has(last)) {
    return { class: 'read', severity: 'low', why: `name has no verb and names data ("${last}"): it reads it` };
  }
  return undefined;
}

function verbRisk(word: string): VerbRisk | undefined {
  const direct = VERBS[word];
  if (direct) return direct;
  // Descriptions conjugate: "Retrieves", "Deleted", "Sending".
  for (const stem of [word.replace(/s$/, ''), word.replace(/es$/, ''), word.replace(/ed$/, ''), word.replace(/d$/, ''), word.replace(/ing$/, ''), word.replace(/ing$/, 'e')]) {
    if (stem !== word && stem.length > 2 && VERBS[stem]) return VERBS[stem];
  }
  return undefined;
}

function riskFromAnnotations(annotations: ToolAnnotations | undefined): Risk | undefined {
  if (!annotations) return undefined;
  const { readOnlyHint, destructiveHint, openWorldHint } = annotations;
  if (readOnlyHint === undefined && destructiveHint === undefined && openWorldHint === undefined) return undefined;
  if (readOnlyHint === true) {
    return { class: 'read', severity: openWorldHint === true ? 'medium' : 'low', why: 'annotated readOnlyHint' };
  }
  if (destructiveHint === true) {
    return { class: 'destructive', severity: 'high', why: 'annotated destructiveHint' };
  }
  if (openWorldHint === true) {
    return { class: 'execute', severity: 'high', why: 'annotated openWorldHint and not read-only: acts outside the server' };
  }
  if (destructiveHint === false || readOnlyHint === false) {
    return { class: 'write', severity: 'medium', why: 'annotated as neither read-only nor destructive' };
  }
  return undefined;
}

/** Descriptions in other languages use letters outside ASCII; their words must not be read as English verbs. */
const ENGLISH_HINT = /^[\x20-\x7E\s]+$/;

export function classifyTool(tool: ClassifiableTool): Risk {
  const annotated = riskFromAnnotations(tool.annotations);
  if (annotated) return annotated;
  const fromName = riskFromName(tool.name);
  if (fromName) return fromName;
  const description = tool.description ?? '';
  if (ENGLISH_HINT.test(description)) {
    const fromDescription = riskFromWords(nameWords(description).slice(0, 12));
    if (fromDescription) {
      return { ...fromDescription.risk, why: `description has the verb "${fromDescription.verb}"` };
    }
  }
  return { class: 'write', severity: 'medium', why: 'no annotations and no known verb: assumed to change something' };
}

export function isRisky(risk: Risk): boolean {
  return risk.class === 'execute' || risk.class === 'destructive';
}
