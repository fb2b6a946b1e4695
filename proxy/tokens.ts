/**
 * Named client credentials (grants): `mcp-policy token create NAME`. Only a SHA-256 hash of
 * each token is kept, in ~/.mcp-policy/tokens.json (MCP_POLICY_TOKENS overrides the path),
 * readable by the user only and replaced whole (temp file, then rename) so a reader never
 * sees half a file. Tokens are 32 random bytes: a fast hash is enough, nothing to brute-force.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export const TOKENS_ENV = 'MCP_POLICY_TOKENS';
const TOKEN_PREFIX = 'mcpp_';
/** "stdio" is the grant of stdio clients; a token must not share its budget by its name. */
const RESERVED_NAMES = new Set(['stdio']);
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface StoredToken {
  name: string;
  /** "sha256:<hex>" of the whole token. */
  hash: string;
  created: string;
}

interface TokenFile {
  version: 1;
  tokens: StoredToken[];
}

export function defaultTokensPath(env: NodeJS.ProcessEnv = process.env): string {
  const override = env[TOKENS_ENV];
  return override && override.length > 0 ? override : join(homedir(), '.mcp-policy', 'tokens.json');
}

export function tokenNameProblem(name: string): string | undefined {
  if (!NAME_PATTERN.test(name)) return `"${name}" is not a token name: use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit`;
  if (RESERVED_NAMES.has(name)) return `"${name}" is reserved (it is the grant of stdio clients)`;
  return undefined;
}

function hashToken(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex')}`;
}

export class TokenStore {
  private cache: { ino: number; mtimeMs: number; size: number; tokens: StoredToken[] } | undefined;

  constructor(readonly path: string = defaultTokensPath()) {}

  list(): StoredToken[] {
    let stats;
    try {
      stats = statSync(this.path);
    } catch {
      this.cache = undefined;
      return [];
    }
    // Re-read when the file changed: a revoke takes effect at the next request of every proxy.
    if (this.cache && this.cache.ino === stats.ino && this.cache.mtimeMs === stats.mtimeMs && this.cache.size === stats.size) return this.cache.tokens;
    const tokens = this.read();
    this.cache = { ino: stats.ino, mtimeMs: stats.mtimeMs, size: stats.size, tokens };
    return tokens;
  }

  /** A new token for NAME, shown once; `replace` gives an existing name a new token. */
  create(name: string, options: { replace?: boolean } = {}): string {
    const problem = tokenNameProblem(name);
    if (problem) throw new Error(problem);
    const tokens = this.read();
    const existing = tokens.findIndex((token) => token.name === name);
    if (existing >= 0 && !options.replace) throw new Error(`a token named "${name}" exists already: revoke it first (mcp-policy token revoke ${name})`);
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const entry: StoredToken = { name, hash: hashToken(token), created: new Date().toISOString() };
    if (existing >= 0) tokens[existing] = entry;
    else tokens.push(entry);
    this.write(tokens);
    return token;
  }

  /** False when no token has that name. */
  revoke(name: string): boolean {
    const tokens = this.read();
    const kept = tokens.filter((token) => token.name !== name);
    if (kept.length === tokens.length) return false;
    this.write(kept);
    return true;
  }

  /** The name of the token in `Authorization: Bearer <token>`, or undefined. */
  grantFor(authorization: string | undefined): string | undefined {
    if (authorization === undefined || !authorization.startsWith(`Bearer ${TOKEN_PREFIX}`)) return undefined;
    const given = Buffer.from(hashToken(authorization.slice('Bearer '.length)));
    for (const token of this.list()) {
      const expected = Buffer.from(token.hash);
      if (expected.length === given.length && timingSafeEqual(expected, given)) return token.name;
    }
    return undefined;
  }

  private read(): StoredToken[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`cannot read ${this.path}: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new Error(`${this.path} is not JSON: ${(error as Error).message}`);
    }
    const tokens = (parsed as Partial<TokenFile> | null)?.tokens;
    if (!Array.isArray(tokens)) throw new Error(`${this.path} has no "tokens" list`);
    return tokens.filter(
      (token): token is StoredToken =>
        token !== null && typeof token === 'object' && typeof token.name === 'string' && typeof token.hash === 'string' && typeof token.created === 'string',
    );
  }

  private write(tokens: StoredToken[]): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const file: TokenFile = { version: 1, tokens };
    try {
      writeFileSync(temp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
      chmodSync(temp, 0o600);
      renameSync(temp, this.path);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
    this.cache = undefined;
  }
}
