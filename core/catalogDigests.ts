/**
 * Pin digests of a catalog made on a worker thread, ahead of need. Opening a policy checks every
 * catalog entry against its pin (pinDriftChecks.ts): canonical JSON and sha256 of each of 10,000
 * definitions is one of the largest parts of a cold open, and nothing else in it needs them.
 * The catalog's text goes to the worker the moment it is read; the main thread parses it and the
 * policy meanwhile, and the first digest it misses (pinning.ts) waits for the worker's answer and
 * records the digests. The digests are the same function of the same text either way: with fewer
 * than four cores, no worker file, or no answer in time, the main thread makes them itself.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { CatalogTool } from './catalog';
import { coreCount } from './serverProcess';
import type { DigestAnswer, DigestRequest } from './catalogDigestWorker';
import { digestsPending, recordDigest } from './pinning';

/** Cores from which the worker has one to itself: the main thread, V8's helpers, the worker, and one for the editor. */
const WORKER_CORES = 4;

/** Past this the main thread stops waiting and digests itself (a stuck or starved worker). */
const ANSWER_TIMEOUT_MS = 2_000;

/** Where a catalog's tools came from in its text: server name and index in its `tools` array. */
export interface KeptTool {
  server: string;
  index: number;
  tool: CatalogTool;
}

/** The worker's file: dist/catalogDigestWorker.js beside the bundle, out/core/catalogDigestWorker.js beside this file. */
function workerFile(): string | undefined {
  const file = join(__dirname, 'catalogDigestWorker.js');
  return existsSync(file) ? file : undefined;
}

/** One worker per owner (the language server's CatalogStore), started on the first catalog. */
export class CatalogDigests {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private signal: Int32Array | undefined;
  private broken = false;
  private sent = 0;
  private readonly answers = new Map<number, DigestAnswer>();
  /** Digests the worker made and the main thread recorded: what tests look at. */
  recorded = 0;

  /**
   * Off below WORKER_CORES: during a cold open V8's own helper threads (parallel scavenges,
   * concurrent marking and compiling) already keep a second core busy, and on two cores the
   * worker only took turns with them (bench/RESULTS.md: the same wall time, 110 ms more CPU).
   */
  constructor(private readonly enabled = coreCount() >= WORKER_CORES) {}

  /**
   * Starts digesting a catalog's text; `attach` is given the tools parsed from that same text
   * and arranges for the digests to be recorded on the first miss. Undefined when no worker.
   */
  start(text: string): ((kept: readonly KeptTool[]) => void) | undefined {
    if (!this.ready()) return undefined;
    const id = ++this.sent;
    try {
      this.port!.postMessage({ id, text } satisfies DigestRequest);
    } catch {
      this.stop();
      return undefined;
    }
    return (kept) => digestsPending(() => this.settle(id, kept));
  }

  /** Starts the worker now (the language server does at start), so that its start-up is not part of the first open. */
  prepare(): void {
    this.ready();
  }

  /** For tests and shutdown: the worker goes, later catalogs are digested on the main thread. */
  stop(): void {
    this.broken = true;
    void this.worker?.terminate();
    this.port?.close();
    this.worker = undefined;
    this.port = undefined;
  }

  private ready(): boolean {
    if (this.worker) return true;
    if (this.broken || !this.enabled) return false;
    const file = workerFile();
    if (!file) {
      this.broken = true;
      return false;
    }
    try {
      const { port1, port2 } = new MessageChannel();
      const signal = new Int32Array(new SharedArrayBuffer(4));
      const worker = new Worker(file, { workerData: { port: port2, signal }, transferList: [port2] });
      // The worker never keeps the server alive, and a failure only means digesting here.
      worker.unref();
      worker.on('error', () => this.stop());
      this.worker = worker;
      this.port = port1;
      this.signal = signal;
      return true;
    } catch {
      this.broken = true;
      return false;
    }
  }

  /** Waits (bounded) for answer `id`, then records its digests for the tools kept from its text. */
  private settle(id: number, kept: readonly KeptTool[]): void {
    const answer = this.answer(id);
    if (!answer?.servers) return;
    for (const { server, index, tool } of kept) {
      const digest = answer.servers[server]?.[index];
      if (!digest) continue;
      recordDigest(tool, digest);
      this.recorded++;
    }
  }

  private answer(id: number): DigestAnswer | undefined {
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    while (!this.answers.has(id)) {
      const port = this.port;
      const signal = this.signal;
      if (!port || !signal) return undefined;
      if (Date.now() > deadline) {
        this.stop();
        return undefined;
      }
      const message = receiveMessageOnPort(port);
      if (message) {
        const answer = message.message as DigestAnswer;
        this.answers.set(answer.id, answer);
        continue;
      }
      const counted = Atomics.load(signal, 0);
      // Answers are posted before they are counted: all counted ones are on the port already.
      if (counted >= id) continue;
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(signal, 0, counted, left) === 'timed-out') {
        this.stop();
        return undefined;
      }
    }
    const answer = this.answers.get(id);
    this.answers.delete(id);
    return answer;
  }
}
