/**
 * A catalog's seal: the sha256 of the file's text as `mcp-policy catalog` or Accept Change
 * wrote it, written only when every entry matched its pin at that moment. A file whose seal
 * still matches is byte for byte what was written, so no entry can have drifted from its pin,
 * and opening a policy need not digest 10,000 definitions one by one. Any edit breaks the seal
 * and the file is then checked entry by entry, as a file without one is.
 *
 * Not a signature: whoever can edit a catalog can reseal it, as they can rewrite its pins. The
 * pin check it shortcuts catches changes nobody reviewed (a hand edit, a merge), not forgery.
 */
import { createHash } from 'node:crypto';

/** The seal's key; the writers put it right after `$schema` and `version`. */
export const SEAL_KEY = 'seal';

/** The seal as the text is hashed: its value empty. */
const OPEN_SEAL = `"${SEAL_KEY}": ""`;
const SEAL = new RegExp(`"${SEAL_KEY}": "sha256:([0-9a-f]{64})"`);
/** The seal is a few lines into the file; a match further in is not the writers'. */
const SEAL_WITHIN = 4096;

function digestAround(before: string | Buffer, after: string | Buffer): string {
  return createHash('sha256').update(before).update(OPEN_SEAL).update(after).digest('hex');
}

/**
 * `text` (a catalog as JSON.stringify wrote it, with `"seal": ""` in it) with that seal filled
 * in; undefined when the text has no open seal near its start.
 */
export function fillSeal(text: string): string | undefined {
  const at = text.indexOf(OPEN_SEAL);
  if (at < 0 || at > SEAL_WITHIN) return undefined;
  const before = text.slice(0, at);
  const after = text.slice(at + OPEN_SEAL.length);
  return `${before}"${SEAL_KEY}": "sha256:${digestAround(before, after)}"${after}`;
}

/**
 * True when `content` carries a seal and is exactly the content that seal was made for. Bytes
 * as read from the file are hashed in place (half the time of hashing the decoded text).
 */
export function sealHolds(content: string | Buffer): boolean {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  // latin1 maps byte i to character i, so the match's index is its byte offset.
  const match = SEAL.exec(bytes.subarray(0, SEAL_WITHIN).toString('latin1'));
  if (!match) return false;
  const before = bytes.subarray(0, match.index);
  const after = bytes.subarray(match.index + match[0].length);
  return digestAround(before, after) === match[1];
}
