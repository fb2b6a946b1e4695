/**
 * The relay's ledger on its own: every way an answer can be matched, refused or forgotten,
 * and a seeded model check that no sequence of operations lets one side answer for the other
 * or leaves an entry behind.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_IN_FLIGHT_PER_SIDE, RelayLedger, type OwnRequest } from '../../proxy/relayLedger';
import { seededRandom } from './helpers';

const noData = (): Record<string, never> => ({});
const settleInto = (answers: unknown[]): OwnRequest['settle'] => (answer) => void answers.push(answer);

function empty(ledger: RelayLedger<unknown>): void {
  assert.deepEqual(ledger.sizes, { fromClient: 0, sentUpstream: 0, fromUpstream: 0, sentToClient: 0, clientTokens: 0, upstreamTokens: 0 });
}

test('a client request goes upstream under an id the ledger gives it, and only that id answers it', () => {
  const ledger = new RelayLedger();
  const request = ledger.admitClientRequest(9, 'tools/list', undefined, noData());
  assert.ok(typeof request !== 'string');
  const upstreamId = ledger.forwardClientRequest(request);
  assert.equal(ledger.takeUpstreamAnswer(9 === upstreamId ? 10_000 : 9), undefined, "the client's own id means nothing upstream");
  const target = ledger.takeUpstreamAnswer(upstreamId);
  assert.equal(target?.kind, 'client');
  assert.equal(target?.kind === 'client' && target.request.method, 'tools/list');
  assert.equal(ledger.takeUpstreamAnswer(upstreamId), undefined, 'a second answer matches nothing');
  empty(ledger);
});

test('an id in flight from the client is refused until its request ends; then it may be used again', () => {
  const ledger = new RelayLedger();
  const first = ledger.admitClientRequest('a', 'tools/list', undefined, noData());
  assert.equal(ledger.admitClientRequest('a', 'ping', undefined, noData()), 'id in flight');
  assert.ok(typeof first !== 'string');
  // A number and a string that print alike are different ids.
  assert.notEqual(typeof ledger.admitClientRequest(1, 'ping', undefined, noData()), 'string');
  assert.notEqual(typeof ledger.admitClientRequest('1', 'ping', undefined, noData()), 'string');
  assert.equal(ledger.finishClientRequest(first), true);
  assert.equal(ledger.finishClientRequest(first), false, 'a request ends once');
  assert.notEqual(typeof ledger.admitClientRequest('a', 'ping', undefined, noData()), 'string');
});

test('a progress token is the request’s from admission to its end, and the upstream can report only on forwarded ones', () => {
  const ledger = new RelayLedger();
  const request = ledger.admitClientRequest(1, 'tools/call', 'tok', noData());
  assert.ok(typeof request !== 'string');
  assert.equal(ledger.admitClientRequest(2, 'tools/call', 'tok', noData()), 'progress token in use');
  assert.equal(ledger.clientRequestWithToken('tok'), undefined, 'a call still being decided has no progress to report');
  ledger.forwardClientRequest(request);
  assert.equal(ledger.clientRequestWithToken('tok'), request);
  assert.equal(ledger.clientRequestWithToken({ tok: 1 }), undefined);
  ledger.finishClientRequest(request);
  assert.equal(ledger.clientRequestWithToken('tok'), undefined);
  empty(ledger);
});

test('a blocked call that never went upstream leaves nothing behind', () => {
  const ledger = new RelayLedger();
  for (let i = 0; i < 10_000; i++) {
    const request = ledger.admitClientRequest(i, 'tools/call', `token-${i}`, noData());
    assert.ok(typeof request !== 'string');
    ledger.finishClientRequest(request);
  }
  empty(ledger);
});

test("the upstream's requests go to the client under the ledger's ids; only the client's answer to one settles it", () => {
  const ledger = new RelayLedger();
  const request = ledger.admitUpstreamRequest(0, 'sampling/createMessage', 'p');
  assert.ok(typeof request !== 'string');
  assert.equal(ledger.admitUpstreamRequest(0, 'ping', undefined), 'id in flight');
  assert.equal(ledger.upstreamRequestWithToken('p'), request);
  assert.equal(ledger.takeUpstreamAnswer(request.downstreamId), undefined, 'the upstream cannot answer its own request');
  assert.equal(ledger.takeClientAnswer(0 === request.downstreamId ? 99 : 0), undefined);
  const target = ledger.takeClientAnswer(request.downstreamId);
  assert.equal(target?.kind === 'upstream' && target.request.upstreamId, 0);
  assert.equal(ledger.takeClientAnswer(request.downstreamId), undefined);
  empty(ledger);
});

test("the proxy's own requests are answered only by the side they went to", () => {
  const ledger = new RelayLedger();
  const answers: unknown[] = [];
  const toUpstream = ledger.ownRequest('upstream', 'tools/list', settleInto(answers));
  const toClient = ledger.ownRequest('client', 'elicitation/create', settleInto(answers));
  assert.ok(typeof toUpstream !== 'string' && typeof toClient !== 'string');
  assert.match(toUpstream.id, /^mcp-policy-[0-9a-f]{12}-\d+$/);
  assert.equal(ledger.takeClientAnswer(toUpstream.id), undefined, "the client cannot answer the proxy's schema fetch");
  assert.equal(ledger.takeUpstreamAnswer(toClient.id), undefined, "the upstream cannot answer the proxy's approval question");
  assert.equal(ledger.takeUpstreamAnswer(toUpstream.id)?.kind, 'own');
  assert.equal(ledger.takeClientAnswer(toClient.id)?.kind, 'own');
  empty(ledger);
});

test('own ids differ between sessions, so one session cannot predict another’s', () => {
  const a = new RelayLedger().ownRequest('client', 'x', () => undefined);
  const b = new RelayLedger().ownRequest('client', 'x', () => undefined);
  assert.ok(typeof a !== 'string' && typeof b !== 'string');
  assert.notEqual(a.id, b.id);
});

test('a withdrawn own request matches nothing afterwards', () => {
  const ledger = new RelayLedger();
  const own = ledger.ownRequest('client', 'elicitation/create', () => assert.fail('settled after withdrawal'));
  assert.ok(typeof own !== 'string');
  assert.equal(ledger.withdrawOwn(own), true);
  assert.equal(ledger.withdrawOwn(own), false);
  assert.equal(ledger.takeClientAnswer(own.id), undefined);
  empty(ledger);
});

test('when the upstream goes, its forwarded requests and own requests are handed back and its requests to the client are forgotten', () => {
  const ledger = new RelayLedger();
  const deciding = ledger.admitClientRequest(1, 'tools/call', undefined, noData());
  const forwarded = ledger.admitClientRequest(2, 'tools/call', 't2', noData());
  assert.ok(typeof deciding !== 'string' && typeof forwarded !== 'string');
  ledger.forwardClientRequest(forwarded);
  const own = ledger.ownRequest('upstream', 'tools/list', () => undefined);
  const ownToClient = ledger.ownRequest('client', 'elicitation/create', () => undefined);
  const serverRequest = ledger.admitUpstreamRequest(5, 'roots/list', undefined);
  assert.ok(typeof own !== 'string' && typeof serverRequest !== 'string' && typeof ownToClient !== 'string');
  const gone = ledger.upstreamGone();
  assert.deepEqual(gone.forwarded, [forwarded]);
  assert.deepEqual(gone.own, [own]);
  assert.equal(ledger.takeClientAnswer(serverRequest.downstreamId), undefined, "an answer for the dead upstream's request matches nothing");
  assert.equal(ledger.clientRequest(1), deciding, 'a call still being decided goes on, to the next upstream');
  assert.equal(ledger.takeClientAnswer(ownToClient.id)?.kind, 'own', 'the approval question to the client still stands');
  assert.equal(ledger.admitClientRequest(2, 'ping', undefined, noData()) !== 'id in flight', true);
});

test('each side may have at most MAX_IN_FLIGHT_PER_SIDE requests in flight', () => {
  const ledger = new RelayLedger();
  for (let i = 0; i < MAX_IN_FLIGHT_PER_SIDE; i++) assert.notEqual(typeof ledger.admitClientRequest(i, 'ping', undefined, noData()), 'string');
  assert.equal(ledger.admitClientRequest(-1, 'ping', undefined, noData()), 'too many requests in flight');
  for (let i = 0; i < MAX_IN_FLIGHT_PER_SIDE; i++) assert.notEqual(typeof ledger.admitUpstreamRequest(i, 'ping', undefined), 'string');
  assert.equal(ledger.admitUpstreamRequest(-1, 'ping', undefined), 'too many requests in flight');
  assert.equal(ledger.closeAll().length, 0);
  empty(ledger);
});


test('model check: random operations from both sides never cross sides and always end clean (seeded)', () => {
  for (const seed of [1, 2, 3, 42, 1234]) {
    const next = seededRandom(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const ledger = new RelayLedger<{ n: number }>();
    /** What the model says each side may answer: ids given to it and not yet answered. */
    const upstreamMayAnswer = new Map<string, 'client' | 'own'>();
    const clientMayAnswer = new Map<string, 'upstream' | 'own'>();
    const clientInFlight = new Set<string>();
    const ids = [1, 2, 3, '1', '2', 'x'];
    for (let step = 0; step < 20_000; step++) {
      const op = Math.floor(next() * 7);
      const id = pick(ids);
      const key = `${typeof id}:${id}`;
      if (op === 0) {
        const admitted = ledger.admitClientRequest(id, 'tools/call', undefined, { n: step });
        assert.equal(typeof admitted === 'string', clientInFlight.has(key), `seed ${seed} step ${step}: admission disagrees with the model`);
        if (typeof admitted !== 'string') {
          clientInFlight.add(key);
          if (next() < 0.7) upstreamMayAnswer.set(`number:${ledger.forwardClientRequest(admitted)}`, 'client');
          else if (next() < 0.5) {
            ledger.finishClientRequest(admitted);
            clientInFlight.delete(key);
          }
        }
      } else if (op === 1) {
        // The upstream answers any id it likes: one it was given, or a guess.
        const guess = next() < 0.5 && upstreamMayAnswer.size > 0 ? pick([...upstreamMayAnswer.keys()]) : `number:${Math.floor(next() * 50)}`;
        const answerId = guess.startsWith('number:') ? Number(guess.slice(7)) : guess.slice(7);
        const target = ledger.takeUpstreamAnswer(answerId);
        const expected = upstreamMayAnswer.get(guess);
        assert.equal(target?.kind, expected, `seed ${seed} step ${step}: upstream answer ${guess}`);
        if (target?.kind === 'client') clientInFlight.delete(`${typeof target.request.clientId}:${target.request.clientId}`);
        upstreamMayAnswer.delete(guess);
      } else if (op === 2) {
        const admitted = ledger.admitUpstreamRequest(Math.floor(next() * 1e9), 'sampling/createMessage', undefined);
        if (typeof admitted !== 'string') clientMayAnswer.set(`number:${admitted.downstreamId}`, 'upstream');
      } else if (op === 3) {
        const guess = next() < 0.5 && clientMayAnswer.size > 0 ? pick([...clientMayAnswer.keys()]) : next() < 0.5 ? `number:${Math.floor(next() * 50)}` : pick([...upstreamMayAnswer.keys(), 'string:x']);
        const answerId = guess.startsWith('number:') ? Number(guess.slice(7)) : guess.slice(7);
        const target = ledger.takeClientAnswer(answerId);
        assert.equal(target?.kind, clientMayAnswer.get(guess), `seed ${seed} step ${step}: client answer ${guess}`);
        clientMayAnswer.delete(guess);
      } else if (op === 4) {
        const to = next() < 0.5 ? 'upstream' : 'client';
        const own = ledger.ownRequest(to, 'x', () => undefined);
        if (typeof own !== 'string') (to === 'upstream' ? upstreamMayAnswer : clientMayAnswer).set(`string:${own.id}`, 'own');
      } else if (op === 5 && next() < 0.05) {
        const gone = ledger.upstreamGone();
        for (const request of gone.forwarded) clientInFlight.delete(`${typeof request.clientId}:${request.clientId}`);
        upstreamMayAnswer.clear();
        for (const [answerKey, kind] of clientMayAnswer) if (kind === 'upstream') clientMayAnswer.delete(answerKey);
      } else if (op === 6) {
        const request = ledger.clientRequest(id);
        if (request && next() < 0.3) {
          ledger.finishClientRequest(request);
          clientInFlight.delete(key);
          if (request.upstreamId !== undefined) upstreamMayAnswer.delete(`number:${request.upstreamId}`);
        }
      }
    }
    ledger.closeAll();
    empty(ledger);
  }
});
