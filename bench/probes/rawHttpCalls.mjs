// Raw keep-alive HTTP client for an MCP endpoint: initialize, then N sequential tools/call echo (p50/p90/p99, client CPU), then 4,000 calls with K in flight. PV=2025-11-25 sends that protocol version.
// node bench/probes/rawHttpCalls.mjs URL [TOKEN] [N] [K]
import http from 'node:http';
const [url, token = '', n = '1000', inflight='1'] = process.argv.slice(2);
const u = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function post(body, session) {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': process.env.PV ?? '2025-06-18' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (session) headers['mcp-session-id'] = session;
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
const init = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: process.env.PV ?? '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
const session = init.headers['mcp-session-id'];
await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session);
let id = 1;
const call = () => post({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'echo', arguments: { message: 'bench' } } }, session);
await call(); await call(); const sample = await call();
console.log(sample.status, JSON.stringify(sample.headers), JSON.stringify(sample.text).slice(0, 200));
for (let i = 0; i < 200; i++) await call();
const lat = [];
const c0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < Number(n); i++) { const s = performance.now(); await call(); lat.push(performance.now() - s); }
const el = performance.now() - t0;
const c = process.cpuUsage(c0);
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.floor(p * (lat.length - 1))].toFixed(3);
console.log(`p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} ms; client cpu ${((c.user + c.system) / Number(n)).toFixed(0)} us/call; ${(Number(n) / el * 1000).toFixed(0)} calls/s seq`);
const K = Number(inflight);
if (K > 1) { let left = 4000; const t1 = performance.now(); await Promise.all(Array.from({length:K}, async()=>{ while(left-- > 0) await call(); })); console.log(`${(4000/(performance.now()-t1)*1000).toFixed(0)} calls/s with ${K} in flight`); }
process.exit(0);
