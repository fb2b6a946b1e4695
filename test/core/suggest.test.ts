import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editDistance, suggest } from '../../core/suggest';
import { mulberry32 as random } from './helpers';

/** The definition: of the candidates other than the word within the length's limit, the closest; of equally close ones, the first. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

const LETTERS = 'abcdeABCDE_-01é';

function mutate(word: string, next: () => number, edits: number): string {
  let out = word;
  for (let edit = 0; edit < edits; edit++) {
    const at = Math.floor(next() * (out.length + 1));
    const letter = LETTERS[Math.floor(next() * LETTERS.length)]!;
    const kind = Math.floor(next() * 5);
    if (kind === 0) out = out.slice(0, at) + letter + out.slice(at);
    else if (kind === 1) out = out.slice(0, at) + out.slice(at + 1);
    else if (kind === 2) out = out.slice(0, at) + letter + out.slice(at + 1);
    else if (kind === 3 && at + 1 < out.length) out = out.slice(0, at) + out[at + 1]! + out[at]! + out.slice(at + 2);
    else out = out.slice(0, at) + (out[at]?.toUpperCase() ?? '') + out.slice(at + 1);
  }
  return out;
}

describe('did-you-mean', () => {
  it('names the closest catalog name, the first of equally close ones', () => {
    const names = ['fluentcrm_list_contacts', 'fluentcrm_get_contact', 'fluentcrm_resume_campaign', 'fluentcrm_pause_campaign'];
    assert.equal(suggest('fluentcrm_resum_campaign', names), 'fluentcrm_resume_campaign');
    assert.equal(suggest('fluentcrm_get_contacts', names), 'fluentcrm_get_contact');
    assert.equal(suggest('FluentCRM_get_contact', names), 'fluentcrm_get_contact');
    assert.equal(suggest('something_else_entirely', names), undefined);
    assert.equal(suggest('fluentcrm_get_contact', ['fluentcrm_get_contact', 'wordpress_posts']), undefined, 'the word itself is no suggestion');
    assert.equal(suggest('ab', ['ax', 'xb']), 'ax', 'a tie goes to the earlier name');
    assert.equal(suggest('ab', ['xb', 'ax']), 'xb');
    assert.equal(suggest('abcdef', ['abcdXY', 'abcdeX']), 'abcdeX', 'a later, closer name wins');
  });

  it('agrees with the definition on 4,000 generated words and catalogs', () => {
    const next = random(1328);
    for (let round = 0; round < 4000; round++) {
      const base = Array.from({ length: 2 + Math.floor(next() * 14) }, () => LETTERS[Math.floor(next() * LETTERS.length)]!).join('');
      // Close and far names, repeats and the word itself among them, in random order.
      const candidates = Array.from({ length: Math.floor(next() * 40) }, () => (next() < 0.1 ? base : mutate(base, next, Math.floor(next() * 7))));
      const word = mutate(base, next, Math.floor(next() * 4));
      assert.equal(suggest(word, candidates), closest(word, candidates), `${JSON.stringify(word)} among ${JSON.stringify(candidates)}`);
    }
  });

  it('agrees with the definition for many words against one long list (its index made once)', () => {
    const next = random(77);
    const bases = Array.from({ length: 60 }, () => Array.from({ length: 4 + Math.floor(next() * 20) }, () => LETTERS[Math.floor(next() * LETTERS.length)]!).join(''));
    const names = Array.from({ length: 400 }, () => mutate(bases[Math.floor(next() * bases.length)]!, next, Math.floor(next() * 5)));
    for (let round = 0; round < 300; round++) {
      const word = mutate(next() < 0.5 ? names[Math.floor(next() * names.length)]! : bases[Math.floor(next() * bases.length)]!, next, Math.floor(next() * 4));
      assert.equal(suggest(word, names), closest(word, names), JSON.stringify(word));
    }
  });
});
