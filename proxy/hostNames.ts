/**
 * Which `Host` headers the listener answers: a page that rebinds its own domain name to
 * 127.0.0.1 still sends that name, so a loopback listener answers loopback names only.
 * Ports are not compared (as the SDK's hostHeaderValidation middleware does): the name is what a
 * rebinding page cannot fake.
 */
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/** The names (URL hostnames: lower case, IPv6 in brackets) a listener bound to `host` answers. */
export function allowedHostNames(host: string): Set<string> {
  const names = new Set(LOOPBACK_NAMES);
  const bound = urlHostname(host);
  if (bound === undefined) return names;
  if (WILDCARD_HOSTS.has(bound)) {
    // Bound everywhere on purpose: every address of this machine, and its name, are its own.
    for (const addresses of Object.values(networkInterfaces())) for (const address of addresses ?? []) names.add(urlHostname(address.address) ?? address.address);
    names.add(hostname().toLowerCase());
  } else {
    names.add(bound);
  }
  return names;
}

/** The hostname of a Host header (or a bare address), as the URL parser normalises it. */
export function urlHostname(hostHeader: string): string | undefined {
  const text = isIP(hostHeader) === 6 ? `[${hostHeader}]` : hostHeader;
  try {
    const url = new URL(`http://${text}`);
    // "a@b" or "a/b" in a Host header is not a host.
    return url.username === '' && url.pathname === '/' && url.search === '' ? url.hostname : undefined;
  } catch {
    return undefined;
  }
}
