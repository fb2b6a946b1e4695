import { cpus, totalmem } from 'node:os';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchCore } from './core';

type Bench = () => Promise<string>;

/** Benchmarks of other parts are optional modules, so each can be run on its own. */
function optionalBench(file: string, exportName: string): Bench | undefined {
  const path = join(__dirname, file);
  if (!existsSync(path)) return undefined;
  return (require(path) as Record<string, Bench>)[exportName];
}

async function main(): Promise<void> {
  const only = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  const write = process.argv.includes('--write');
  const benches: Array<[string, Bench | undefined]> = [
    ['core', benchCore],
    ['counters', optionalBench('counters.js', 'benchCounters')],
    ['proxy', optionalBench('proxy.js', 'benchProxy')],
    ['server', optionalBench('server.js', 'benchLanguageServer')],
    ['extension', optionalBench('extension.js', 'benchExtension')],
  ];
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
  const sections = [`# Benchmarks\n\nMachine: ${machine}\nDate: ${new Date().toISOString().slice(0, 10)}\n`];
  for (const [name, bench] of benches) {
    if (only.length > 0 && !only.includes(name)) continue;
    if (!bench) continue;
    process.stderr.write(`running ${name} benchmarks…\n`);
    const section = await bench();
    process.stdout.write(`${section}\n\n`);
    sections.push(section);
  }
  if (write) writeFileSync(join(__dirname, '..', '..', 'bench', 'RESULTS.md'), `${sections.join('\n\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
