/**
 * `mcp-policy catalog --accept TOOL`: updates the pins of the named tools only, after their
 * change was reviewed. The rest of the catalog keeps what was pinned before, so accepting one
 * changed description does not also accept a change nobody has looked at yet.
 */
import type { CatalogFile, CatalogServer, CatalogTool } from '../core';
import { setOwn } from '../core/ownRecord';

export interface AcceptResult {
  /** The servers' entries to write: the previous pins with the accepted tools replaced. */
  servers: Record<string, CatalogServer>;
  /** One line per accepted change, "server/tool: pinned|re-pinned|unpinned (removed)". */
  accepted: string[];
  /** Names that no captured server lists and no pin names. */
  unknown: string[];
}

export function acceptTools(previous: CatalogFile | undefined, captured: Record<string, CatalogServer>, names: readonly string[]): AcceptResult {
  const servers: Record<string, CatalogServer> = {};
  const accepted: string[] = [];
  const found = new Set<string>();
  for (const [server, live] of Object.entries(captured)) {
    const pinned = previous?.servers?.[server];
    const liveByName = new Map(live.tools.map((tool) => [tool.name, tool]));
    let tools: CatalogTool[] = [...(pinned?.tools ?? [])];
    for (const name of names) {
      const now = liveByName.get(name);
      const index = tools.findIndex((tool) => tool.name === name);
      if (!now && index < 0) continue;
      found.add(name);
      if (!now) {
        tools = tools.filter((tool) => tool.name !== name);
        accepted.push(`${server}/${name}: unpinned (the server no longer lists it)`);
      } else if (index < 0) {
        tools.push(now);
        accepted.push(`${server}/${name}: pinned (new)`);
      } else {
        tools[index] = now;
        accepted.push(`${server}/${name}: re-pinned`);
      }
    }
    // A server pinned before keeps its serverInfo; one first seen takes the live one.
    const serverInfo = pinned?.serverInfo ?? live.serverInfo;
    setOwn(servers, server, { ...(serverInfo ? { serverInfo } : {}), tools });
  }
  return { servers, accepted, unknown: names.filter((name) => !found.has(name)) };
}
