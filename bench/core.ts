import { analyzePolicy, CompiledPolicy, PolicyEngine, type Policy, type ToolCall } from '../core';
import { fixed, summarize, table, thousands } from './stats';

/** A policy of `size` rules: mostly exact names, a quarter globs, like a large real policy. */
function generatePolicy(size: number, withLimit: boolean): { policy: Policy; calls: ToolCall[] } {
  const tools: Policy['tools'] = {};
  const names: string[] = [];
  for (let index = 0; index < size; index++) {
    if (index % 4 === 3) {
      tools[`svc${index}_*`] = { action: index % 8 === 7 ? 'deny' : 'allow' };
      names.push(`svc${index}_list_items`);
    } else {
      tools[`svc${index}_tool`] = index % 5 === 0 ? { action: 'deny' } : {};
      names.push(`svc${index}_tool`);
    }
  }
  names.push('unmatched_tool_a', 'unmatched_tool_b');
  const policy: Policy = { version: '1', default: 'deny', tools };
  if (withLimit) policy.all_tools = { limits: [{ counter: 'all', window: 'second', max: 100_000_000 }] };
  const calls: ToolCall[] = [];
  let seed = 7;
  for (let index = 0; index < 4096; index++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    calls.push({ server: 'bench', tool: names[seed % names.length] as string, arguments: { id: index }, session: 's', grant: 'g' });
  }
  return { policy, calls };
}

async function measureThroughput(engine: PolicyEngine, calls: ToolCall[], seconds: number): Promise<number> {
  const mask = calls.length - 1;
  let done = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let index = 0; index < 10_000; index++) await engine.evaluate(calls[(done + index) & mask] as ToolCall);
    done += 10_000;
  }
  return done / seconds;
}

async function measureLatencyMicros(engine: PolicyEngine, calls: ToolCall[], count: number): Promise<number[]> {
  const samples: number[] = [];
  const mask = calls.length - 1;
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    await engine.evaluate(calls[index & mask] as ToolCall);
    samples.push((performance.now() - started) * 1000);
  }
  return samples;
}

export async function benchCore(): Promise<string> {
  const rows: Array<Array<string | number>> = [];
  const compileRows: Array<Array<string | number>> = [];
  for (const size of [10, 1000, 10_000]) {
    const text = JSON.stringify(generatePolicy(size, false).policy, null, 2);
    const analyzeStarted = performance.now();
    const analysis = analyzePolicy(text);
    const analyzeMs = performance.now() - analyzeStarted;
    const compileStarted = performance.now();
    new CompiledPolicy(analysis.policy as Policy, text);
    const compileMs = performance.now() - compileStarted;
    compileRows.push([thousands(size), thousands(text.length / 1024) + ' KiB', fixed(analyzeMs, 1), fixed(compileMs, 1), fixed(analyzeMs + compileMs, 1)]);
    for (const withLimit of [false, true]) {
      const { policy, calls } = generatePolicy(size, withLimit);
      const engine = new PolicyEngine(new CompiledPolicy(policy));
      await measureThroughput(engine, calls, 0.3); // warm up the JIT and the rule cache
      const perSecond = await measureThroughput(engine, calls, 1);
      const latency = summarize(await measureLatencyMicros(engine, calls, 200_000));
      rows.push([thousands(size), withLimit ? 'one sliding window' : 'none', thousands(perSecond), fixed(latency.p50, 3), fixed(latency.p99, 3)]);
    }
  }
  // decide() adds what every forwarded call pays on top: redaction, the event id, the event.
  const { policy, calls } = generatePolicy(1000, true);
  const engine = new PolicyEngine(new CompiledPolicy(policy));
  const samples: number[] = [];
  for (let index = 0; index < 50_000; index++) {
    const started = performance.now();
    await engine.decide(calls[index & 4095] as ToolCall);
    samples.push((performance.now() - started) * 1000);
  }
  const decide = summarize(samples);
  return [
    '### Decision engine (one core)',
    '',
    'evaluate() = decision steps 1–5 (rule lookup, hide, action, arguments, limits); a quarter of the rules are globs; 4,096 distinct calls cycled.',
    '',
    table(['rules', 'limit', 'decisions/s', 'p50 µs', 'p99 µs'], rows),
    '',
    `decide() with the decision event (1,000 rules, one limit): p50 ${fixed(decide.p50, 2)} µs, p99 ${fixed(decide.p99, 2)} µs.`,
    '',
    '### Policy load',
    '',
    table(['rules', 'size', 'parse + schema + semantic checks ms', 'compile ms', 'total ms'], compileRows),
  ].join('\n');
}
