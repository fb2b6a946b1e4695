import { isObject, type JsonPath } from '../core';

/**
 * Where a JSON path sits in a policy's tests: inside one call (a one-call test, or a step of
 * a sequence), with the call's tool and server (a step inherits the test's server).
 */
export function testCallAt(path: JsonPath, value: unknown): { tool: string | undefined; server: string | undefined; rest: JsonPath } | undefined {
  if (path[0] !== 'tests' || typeof path[1] !== 'number' || !isObject(value) || !Array.isArray(value.tests)) return undefined;
  const test: unknown = value.tests[path[1]];
  const testServer = isObject(test) && typeof test.server === 'string' ? test.server : undefined;
  if (path[2] === 'steps' && typeof path[3] === 'number') {
    const steps = isObject(test) && Array.isArray(test.steps) ? test.steps : [];
    const step: unknown = steps[path[3]];
    const server = isObject(step) && typeof step.server === 'string' ? step.server : testServer;
    return { tool: isObject(step) && typeof step.tool === 'string' ? step.tool : undefined, server, rest: path.slice(4) };
  }
  if (path[2] === 'steps') return undefined;
  return { tool: isObject(test) && typeof test.tool === 'string' ? test.tool : undefined, server: testServer, rest: path.slice(2) };
}
