// The SDK client, N sequential echo calls against URL: p50/p90/p99 and client CPU. "show" as 4th argument prints what came back to each POST.
// node bench/probes/sdkCalls.mjs URL [TOKEN] [N] [show]
import { createRequire } from 'node:module';
const require = createRequire(new URL('../../package.json', import.meta.url));
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const [url, token = '', n = '1000', show = ''] = process.argv.slice(2);
const logFetch = async (u, init) => {
  const r = await fetch(u, init);
  if (show && (init?.method === 'POST')) {
    const clone = r.clone();
    clone.text().then((t) => console.log('>>', init.body?.slice(0, 80), '\n<<', r.status, r.headers.get('content-type'), JSON.stringify(t).slice(0, 300)));
  }
  if (show && init?.method === 'GET') console.log('GET', r.status, r.headers.get('content-type'));
  return r;
};
const headers = token ? { Authorization: `Bearer ${token}` } : {};
const client = new Client({ name: 'bench', version: '1' });
await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers }, fetch: logFetch }));
const call = () => client.callTool({ name: 'echo', arguments: { message: 'bench' } });
if (show) { await call(); await new Promise((r) => setTimeout(r, 300)); process.exit(0); }
for (let i = 0; i < 200; i++) await call();
const lat = [];
const c0 = process.cpuUsage();
for (let i = 0; i < Number(n); i++) { const s = performance.now(); await call(); lat.push(performance.now() - s); }
const c = process.cpuUsage(c0);
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.floor(p * (lat.length - 1))].toFixed(3);
console.log(`${url} p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} ms; client cpu ${((c.user + c.system) / Number(n)).toFixed(0)} us/call`);
process.exit(0);
