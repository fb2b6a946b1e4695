import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  analyzePolicy,
  catalogRiskSource,
  catalogFromToolsList,
  ManualClock,
  PolicyEngine,
  ToolCatalog,
  type CatalogTool,
  type CompiledPolicy,
  type Policy,
} from '../../core';

export function fixturePath(...parts: string[]): string {
  const fromOut = join(__dirname, '..', '..', '..', 'test', 'fixtures', ...parts);
  return fromOut;
}

interface RecordedToolsList {
  serverInfo: { name: string; version: string };
  result: { tools: Array<Omit<CatalogTool, 'risk'>> };
}

export function fluentCrmToolsList(): RecordedToolsList {
  return JSON.parse(readFileSync(fixturePath('fluentcrm.tools-list.json'), 'utf8')) as RecordedToolsList;
}

export function fluentCrmCatalog(): ToolCatalog {
  const recorded = fluentCrmToolsList();
  return new ToolCatalog([catalogFromToolsList('fluentcrm', recorded.result.tools, recorded.serverInfo)]);
}

export function compile(policy: Omit<Policy, 'version'> & { version?: '1' }): CompiledPolicy {
  const analysis = analyzePolicy(JSON.stringify({ version: '1', ...policy }));
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  if (!analysis.compiled) throw new Error(`policy does not compile: ${errors.map((d) => d.message).join('; ')}`);
  return analysis.compiled;
}

export function engineFor(policy: Omit<Policy, 'version'>, clock = new ManualClock()): { engine: PolicyEngine; clock: ManualClock } {
  const catalog = fluentCrmCatalog();
  const compiled = compile(policy);
  compiled.setToolRisk(catalogRiskSource(catalog));
  const engine = new PolicyEngine(compiled, { clock, inputSchemas: (server, tool) => catalog.find(tool, server)?.inputSchema });
  return { engine, clock };
}

/** Deterministic PRNG so a failing property test can be replayed from its seed. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
