import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { isUrlUpstream, type Policy, type Upstream } from '../../core/model';
import { configLocations, type ConfigLocation } from './formats';
import { readClientConfig, type ConfigServer, type ReadOptions } from './readConfig';

/** The client files that exist for a project folder and a home folder. */
export function discoverConfigs(project: string, home?: string): ConfigLocation[] {
  return configLocations(project, home).filter((location) => existsSync(location.path));
}

export interface FileServers {
  file: string;
  servers: ConfigServer[];
  error?: string;
}

/** Reads each file; a file that cannot be read is reported, not fatal for the others. */
export function readConfigs(files: readonly string[], options: ReadOptions = {}): FileServers[] {
  return files.map((file) => {
    try {
      return { file, servers: readClientConfig(readFileSync(file, 'utf8'), file, options) };
    } catch (error) {
      return { file, servers: [], error: (error as Error).message };
    }
  });
}

/** An upstream with its working folder made absolute, for comparing entries with the policy. */
function comparable(upstream: Upstream, policyFolder: string): Upstream {
  if (isUrlUpstream(upstream)) return { url: upstream.url, headers: upstream.headers ?? {} };
  return { command: upstream.command, args: upstream.args ?? [], env: upstream.env ?? {}, cwd: resolve(policyFolder, upstream.cwd ?? '.') };
}

export function sameUpstream(a: Upstream, b: Upstream, policyFolder: string): boolean {
  return isDeepStrictEqual(comparable(a, policyFolder), comparable(b, policyFolder));
}

/**
 * A project's folder relative to the policy (the proxy runs a command beside the policy by
 * default), so a policy moved with its project keeps working; folders elsewhere stay absolute.
 */
export function relativeToPolicy(upstream: Upstream, policyFolder: string): Upstream {
  if (isUrlUpstream(upstream) || upstream.cwd === undefined || !isAbsolute(upstream.cwd)) return upstream;
  const relativeCwd = relative(resolve(policyFolder), resolve(upstream.cwd));
  const { cwd: _dropped, ...rest } = upstream;
  if (relativeCwd === '') return rest;
  if (relativeCwd.startsWith(`..${sep}..`) || isAbsolute(relativeCwd)) return upstream;
  return { ...rest, cwd: relativeCwd.split(sep).join('/') };
}

/**
 * Policy server names for the chosen entries: the client's name, or `name-client` (then a
 * number) when two entries of that name start different servers; identical entries merge.
 */
export function nameServers(chosen: readonly ConfigServer[], policyFolder: string): Map<ConfigServer, string> {
  const names = new Map<ConfigServer, string>();
  const taken = new Map<string, Upstream>();
  for (const server of chosen) {
    if (!server.upstream) continue;
    const same = [...taken].find(([, upstream]) => sameUpstream(upstream, server.upstream!, policyFolder));
    if (same) {
      names.set(server, same[0]);
      continue;
    }
    let name = server.name;
    if (taken.has(name)) name = `${server.name}-${server.client}`;
    for (let n = 2; taken.has(name); n++) name = `${server.name}-${n}`;
    taken.set(name, server.upstream);
    names.set(server, name);
  }
  return names;
}

/** The policy's server that guards an entry: the one of the same name and upstream, else any with that upstream. */
export function policyServerFor(policy: Policy, policyPath: string, server: ConfigServer): string | undefined {
  if (!server.upstream) return undefined;
  const folder = dirname(resolve(policyPath));
  const candidates = Object.entries(policy.servers ?? {}).filter(([, section]) => section.upstream && sameUpstream(section.upstream, server.upstream!, folder));
  return (candidates.find(([name]) => name === server.name) ?? candidates[0])?.[0];
}

/** One line describing an upstream, for listings. */
export function describeUpstream(upstream: Upstream): string {
  if (isUrlUpstream(upstream)) return upstream.url;
  return [upstream.command, ...(upstream.args ?? [])].map((word) => (/[\s"']/.test(word) ? JSON.stringify(word) : word)).join(' ');
}
