/**
 * A catalog as the text its writers put in the file (`mcp-policy catalog` and Accept Change):
 * JSON with two-space indents, sealed (catalogSeal.ts) when every entry, read back as the
 * language server and the proxy read it, matches its pin. A file with an entry that does not
 * (kept from an earlier file that someone edited) gets no seal, so that entry's drift still shows.
 */
import { readCatalogText } from './catalog';
import { fillSeal, SEAL_KEY } from './catalogSeal';
import { entryDrifted } from './pinDriftChecks';

export function catalogFileText(document: object): string {
  const { $schema, version, [SEAL_KEY]: _previousSeal, ...rest } = document as Record<string, unknown>;
  const head = { ...($schema !== undefined ? { $schema } : {}), version };
  const open = `${JSON.stringify({ ...head, [SEAL_KEY]: '', ...rest }, null, 2)}\n`;
  const { file } = readCatalogText(open, undefined, false);
  const pinsHold = Object.values(file.servers).every((server) => server.tools.every((tool) => !entryDrifted(tool)));
  return (pinsHold ? fillSeal(open) : undefined) ?? `${JSON.stringify({ ...head, ...rest }, null, 2)}\n`;
}
