// Interop check over Streamable HTTP with the official TypeScript MCP clients.
//
//   node client.mjs --modules DIR --sdk v1|v2 --mode legacy|auto --url http://127.0.0.1:PORT/mcp
//
// --modules  the directory holding node_modules (provisioned by .ci/ts-client)
// --sdk v1   @modelcontextprotocol/sdk 1.x: the initialize handshake only (2025-11-25)
// --sdk v2   @modelcontextprotocol/client 2.x: --mode legacy (initialize, 2025-11-25) or
//            --mode auto (probes server/discover; must settle on 2026-07-28)
//
// The scenario mirrors tests/interop/python_client.py against conformance-server: tools,
// progress, logging, an error result, an image, sampling and elicitation callbacks, an unknown
// tool (-32602), resources, prompts and completion; then what went over the wire (session
// header, protocol-version header, SSE versus JSON, DELETE on close).
//
// Every check prints one PASS/FAIL line; the last line is "N passed, M failed". The exit
// status is 0 only when every check passed.

import { createRequire } from 'node:module';
import path from 'node:path';

const LEGACY = '2025-11-25';
const MODERN = '2026-07-28';
const INVALID_PARAMS = -32602;
const SAMPLED_TEXT = 'ts-interop-sampled-reply-31f7';
const SAMPLING_PROMPT = 'ts interop sampling prompt 8a1d';
const ELICIT_USERNAME = 'ts-interop-user-5c0e';
const ELICIT_EMAIL = 'ts-5c0e@example.com';
const PROMPT_ARG1 = 'ts-alpha-7311';
const PROMPT_ARG2 = 'ts-beta-9182';
const EXPECTED_TOOLS = [
  'test_simple_text',
  'test_image_content',
  'test_tool_with_logging',
  'test_tool_with_progress',
  'test_error_handling',
  'test_sampling',
  'test_elicitation',
];

function parseArgs(argv) {
  const args = { timeout: 20 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    args[key] = argv[i + 1];
  }
  for (const need of ['modules', 'sdk', 'mode', 'url']) {
    if (!args[need]) {
      console.error(`missing --${need}`);
      process.exit(2);
    }
  }
  if (args.sdk === 'v1' && args.mode !== 'legacy') {
    console.error('@modelcontextprotocol/sdk 1.x speaks the handshake era only: use --mode legacy');
    process.exit(2);
  }
  args.timeout = Number(args.timeout);
  return args;
}

class CheckFailed extends Error {}
function ensure(cond, message) {
  if (!cond) throw new CheckFailed(message);
}

class Runner {
  constructor(stepMs) {
    this.passed = 0;
    this.failed = 0;
    this.stepMs = stepMs;
  }
  record(name, ok, detail) {
    if (ok) {
      this.passed += 1;
      console.log(`PASS ${name}${detail ? `: ${detail}` : ''}`);
    } else {
      this.failed += 1;
      console.log(`FAIL ${name}: ${detail}`);
    }
  }
  async check(name, fn) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailed(`no answer within ${this.stepMs} ms`)), this.stepMs);
    });
    try {
      const detail = await Promise.race([fn(), timeout]);
      this.record(name, true, detail ?? '');
    } catch (e) {
      if (e instanceof CheckFailed) this.record(name, false, e.message);
      else if (typeof e?.code === 'number') this.record(name, false, `JSON-RPC error ${e.code}: ${e.message}`);
      else this.record(name, false, `${e?.name ?? 'Error'}: ${e?.message ?? e}\n    ${(e?.stack ?? '').split('\n').slice(1, 5).join('\n    ')}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

const textOf = (result) =>
  (result.content ?? [])
    .filter((b) => b.type === 'text')
    .map((b) => b.text)
    .join('\n');
const short = (v) => {
  const s = JSON.stringify(v);
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitUntil(pred, ms) {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await sleep(20);
  return pred();
}

/** Records every HTTP exchange the transport makes. */
function recordingFetch(exchanges) {
  return async (input, init = {}) => {
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    const ex = {
      method: (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase(),
      sessionId: headers.get('mcp-session-id'),
      version: headers.get('mcp-protocol-version'),
      mcpMethod: headers.get('mcp-method'),
      status: 0,
      contentType: '',
      mintedSession: null,
    };
    exchanges.push(ex);
    const resp = await fetch(input, init);
    ex.status = resp.status;
    ex.contentType = resp.headers.get('content-type') ?? '';
    ex.mintedSession = resp.headers.get('mcp-session-id');
    return resp;
  };
}

function loadSdk(modules, sdk) {
  const require = createRequire(path.join(path.resolve(modules), 'package.json'));
  if (sdk === 'v1') {
    const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
    const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
    const types = require('@modelcontextprotocol/sdk/types.js');
    return { Client, StreamableHTTPClientTransport, types };
  }
  const m = require('@modelcontextprotocol/client');
  return { Client: m.Client, StreamableHTTPClientTransport: m.StreamableHTTPClientTransport, types: m };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const { sdk, mode, url } = args;
  const { Client, StreamableHTTPClientTransport, types } = loadSdk(args.modules, sdk);
  console.log(`typescript MCP client interop over HTTP: sdk=${sdk} mode=${mode} url=${url}`);
  const runner = new Runner(args.timeout * 1000);
  const rec = { logs: [], sampling: [], elicitation: [] };
  const exchanges = [];

  const capabilities = { sampling: {}, elicitation: { form: {} }, roots: {} };
  const options = { capabilities };
  if (sdk === 'v2' && mode === 'auto') options.versionNegotiation = { mode: 'auto' };
  const client = new Client({ name: `mcp-rs-interop-ts-${sdk}`, version: '0.1.0' }, options);

  const onSampling = async (params) => {
    rec.sampling.push(params);
    return {
      role: 'assistant',
      content: { type: 'text', text: SAMPLED_TEXT },
      model: 'interop-scripted-model',
      stopReason: 'endTurn',
    };
  };
  const onElicit = async (params) => {
    rec.elicitation.push(params);
    return { action: 'accept', content: { username: ELICIT_USERNAME, email: ELICIT_EMAIL } };
  };
  const onRoots = async () => ({ roots: [{ uri: 'file:///tmp/ts-interop-root', name: 'interop' }] });
  if (sdk === 'v1') {
    client.setRequestHandler(types.CreateMessageRequestSchema, (req) => onSampling(req.params));
    client.setRequestHandler(types.ElicitRequestSchema, (req) => onElicit(req.params));
    client.setRequestHandler(types.ListRootsRequestSchema, () => onRoots());
    client.setNotificationHandler(types.LoggingMessageNotificationSchema, (n) => {
      rec.logs.push(n.params);
    });
  } else {
    client.setRequestHandler('sampling/createMessage', (req) => onSampling(req.params));
    client.setRequestHandler('elicitation/create', (req) => onElicit(req.params));
    client.setRequestHandler('roots/list', () => onRoots());
    client.setNotificationHandler('notifications/message', (n) => {
      rec.logs.push(n.params);
    });
  }

  const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: recordingFetch(exchanges) });
  const modern = mode === 'auto';
  // 2026-07-28 has no logging/setLevel: the level travels in each request's _meta.
  const logMeta = modern ? { _meta: { 'io.modelcontextprotocol/logLevel': 'info' } } : {};
  const reqOpts = { timeout: args.timeout * 1000 };
  // v1: callTool(params, resultSchema?, options?); v2: callTool(params, options?).
  const callTool = (params, opts = reqOpts) =>
    sdk === 'v1' ? client.callTool(params, undefined, opts) : client.callTool(params, opts);

  try {
    await client.connect(transport);
  } catch (e) {
    runner.record('connect', false, `${e?.name}: ${e?.message}\n    ${(e?.stack ?? '').split('\n').slice(1, 6).join('\n    ')}`);
    return finish(runner);
  }

  await runner.check('connect', async () => {
    const version = sdk === 'v1' ? transport.protocolVersion : client.getNegotiatedProtocolVersion();
    const want = modern ? MODERN : LEGACY;
    ensure(version === want, `negotiated ${version}, expected ${want}`);
    if (sdk === 'v2') ensure(client.getProtocolEra() === (modern ? 'modern' : 'legacy'), `era ${client.getProtocolEra()}`);
    const info = client.getServerVersion();
    return `protocolVersion=${version} serverInfo=${info?.name}`;
  });

  if (!modern) {
    await runner.check('ping', async () => {
      await client.ping(reqOpts);
      return '{}';
    });
  }

  await runner.check('tools/list', async () => {
    const names = [];
    let cursor;
    for (let i = 0; i < 50; i++) {
      const page = await client.listTools(cursor ? { cursor } : {}, reqOpts);
      for (const t of page.tools) {
        ensure(t.description, `tool ${t.name} has no description`);
        ensure(t.inputSchema && typeof t.inputSchema === 'object', `tool ${t.name} has no inputSchema`);
        names.push(t.name);
      }
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    const missing = EXPECTED_TOOLS.filter((n) => !names.includes(n));
    ensure(missing.length === 0, `missing ${missing}`);
    return `${names.length} tools`;
  });

  await runner.check('tools/call test_simple_text', async () => {
    const r = await callTool({ name: 'test_simple_text', arguments: {} });
    ensure(!r.isError, `isError: ${short(r)}`);
    ensure(textOf(r).trim(), `no text: ${short(r)}`);
    return JSON.stringify(textOf(r).slice(0, 60));
  });

  await runner.check('tools/call test_tool_with_progress (onprogress)', async () => {
    const seen = [];
    const r = await callTool({ name: 'test_tool_with_progress', arguments: {} }, {
      ...reqOpts,
      onprogress: (p) => seen.push(p),
    });
    ensure(!r.isError, `isError: ${short(r)}`);
    await waitUntil(() => seen.length >= 3, 2000);
    const values = seen.map((p) => p.progress);
    ensure(seen.length >= 3, `expected >= 3 progress notifications, got ${short(seen)}`);
    ensure(values.every((v, i) => i === 0 || v > values[i - 1]), `not increasing: ${values}`);
    ensure(seen.every((p) => p.total === 100), `total is not 100: ${short(seen)}`);
    ensure(values.at(-1) === 100, `last progress ${values.at(-1)}`);
    return `values=${JSON.stringify(values)}`;
  });

  if (!modern) {
    await runner.check('logging/setLevel', async () => {
      await client.setLoggingLevel('info', reqOpts);
      return 'info -> {}';
    });
  }

  await runner.check('tools/call test_tool_with_logging (notifications/message)', async () => {
    const before = rec.logs.length;
    const r = await callTool({ name: 'test_tool_with_logging', arguments: {}, ...logMeta });
    ensure(!r.isError, `isError: ${short(r)}`);
    await waitUntil(() => rec.logs.length - before >= 3, 2000);
    const got = rec.logs.slice(before);
    ensure(got.length >= 3, `expected >= 3 log notifications, got ${got.length}`);
    ensure(got.every((p) => p.level === 'info'), `levels ${got.map((p) => p.level)}`);
    return `${got.length} log messages`;
  });

  await runner.check('tools/call test_error_handling (isError)', async () => {
    const r = await callTool({ name: 'test_error_handling', arguments: {} });
    ensure(r.isError === true, `expected isError: ${short(r)}`);
    ensure(textOf(r).includes('This tool intentionally returns an error for testing'), textOf(r));
    return JSON.stringify(textOf(r).slice(0, 60));
  });

  await runner.check('tools/call test_image_content', async () => {
    const r = await callTool({ name: 'test_image_content', arguments: {} });
    const img = (r.content ?? []).find((b) => b.type === 'image');
    ensure(img, `no image block: ${short(r)}`);
    ensure(img.mimeType === 'image/png', `mimeType ${img.mimeType}`);
    const raw = Buffer.from(img.data, 'base64');
    ensure(raw.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'not a PNG');
    return `${raw.length} bytes of PNG`;
  });

  await runner.check('tools/call test_sampling (sampling handler)', async () => {
    const before = rec.sampling.length;
    const r = await callTool({ name: 'test_sampling', arguments: { prompt: SAMPLING_PROMPT } });
    ensure(rec.sampling.length > before, `the sampling handler never ran: ${short(r)}`);
    const sent = JSON.stringify(rec.sampling.at(-1).messages);
    ensure(sent.includes(SAMPLING_PROMPT), `the prompt is not in the sampling request: ${sent}`);
    ensure(!r.isError, `isError: ${short(r)}`);
    ensure(textOf(r).includes(`LLM response: ${SAMPLED_TEXT}`), `result ${JSON.stringify(textOf(r))}`);
    return JSON.stringify(textOf(r));
  });

  await runner.check('tools/call test_elicitation (elicitation handler)', async () => {
    const before = rec.elicitation.length;
    const r = await callTool({ name: 'test_elicitation', arguments: { message: 'ts interop' } });
    ensure(rec.elicitation.length > before, `the elicitation handler never ran: ${short(r)}`);
    const props = rec.elicitation.at(-1).requestedSchema?.properties ?? {};
    ensure('username' in props && 'email' in props, `requestedSchema ${short(rec.elicitation.at(-1))}`);
    ensure(!r.isError, `isError: ${short(r)}`);
    ensure(textOf(r).includes(ELICIT_USERNAME), `result ${JSON.stringify(textOf(r))}`);
    return JSON.stringify(textOf(r).slice(0, 100));
  });

  await runner.check('tools/call unknown tool -> -32602', async () => {
    try {
      const r = await callTool({ name: 'no_such_tool_ts_interop', arguments: {} });
      throw new CheckFailed(`expected JSON-RPC error ${INVALID_PARAMS}, got ${short(r)}`);
    } catch (e) {
      if (e instanceof CheckFailed) throw e;
      ensure(e?.code === INVALID_PARAMS, `expected ${INVALID_PARAMS}, got ${e?.code}: ${e?.message}`);
      return `error ${e.code}: ${JSON.stringify(e.message.slice(0, 80))}`;
    }
  });

  if (modern) {
    await runner.check('tools/call test_x_mcp_header (Mcp-Param-Region mirrored)', async () => {
      const r = await callTool({ name: 'test_x_mcp_header', arguments: { region: 'eu-west-1' } });
      ensure(!r.isError, `isError: ${short(r)}`);
      ensure(textOf(r).includes('eu-west-1'), `result ${JSON.stringify(textOf(r))}`);
      return JSON.stringify(textOf(r));
    });
  }

  await runner.check('resources/read test://static-text', async () => {
    const r = await client.readResource({ uri: 'test://static-text' }, reqOpts);
    ensure(r.contents?.length, 'no contents');
    ensure(r.contents[0].uri === 'test://static-text', `uri ${r.contents[0].uri}`);
    ensure(r.contents[0].text, 'no text');
    return JSON.stringify(r.contents[0].text.slice(0, 60));
  });

  await runner.check('resources/read test://template/42/data', async () => {
    const r = await client.readResource({ uri: 'test://template/42/data' }, reqOpts);
    ensure(r.contents?.[0]?.text?.includes('42'), `contents ${short(r)}`);
    return JSON.stringify(r.contents[0].text.slice(0, 60));
  });

  await runner.check('prompts/get test_prompt_with_arguments', async () => {
    const r = await client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: PROMPT_ARG1, arg2: PROMPT_ARG2 } }, reqOpts);
    const text = (r.messages ?? []).map((m) => m.content?.text ?? '').join(' ');
    ensure(text.includes(PROMPT_ARG1) && text.includes(PROMPT_ARG2), `text ${JSON.stringify(text)}`);
    return JSON.stringify(text.slice(0, 80));
  });

  await runner.check('completion/complete ref/prompt test_prompt_with_arguments arg1', async () => {
    const r = await client.complete(
      { ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' }, argument: { name: 'arg1', value: '' } },
      reqOpts,
    );
    const values = r.completion?.values;
    ensure(Array.isArray(values) && values.length <= 100, `values ${short(r)}`);
    ensure(values.every((v) => typeof v === 'string'), `values ${short(values)}`);
    return `values=${JSON.stringify(values.slice(0, 10))}`;
  });

  // End the session the way a client does, then look at the wire.
  let sessionId = sdk === 'v1' ? transport.sessionId : transport.sessionId;
  if (!modern) {
    try {
      await transport.terminateSession();
    } catch (e) {
      runner.record('terminate session', false, `${e?.message}`);
    }
  }
  await client.close();
  wireChecks(runner, exchanges, modern, sessionId);
  return finish(runner);
}

function wireChecks(runner, ex, modern, sessionId) {
  const describe = (e) => `${e.method} -> ${e.status} (${e.contentType || '-'})`;
  runner.record('http: exchanges recorded', ex.length > 5, `${ex.length} HTTP requests`);
  const errors = ex.filter((e) => e.status >= 400 && !(e.method === 'GET' && e.status === 405));
  runner.record('http: no HTTP errors', errors.length === 0, errors.length ? `errors: ${errors.map(describe)}` : 'all 2xx');
  const posts = ex.filter((e) => e.method === 'POST');
  const sse = posts.filter((e) => e.contentType.startsWith('text/event-stream'));
  const json = posts.filter((e) => e.contentType.startsWith('application/json'));
  runner.record(
    'http: SSE for calls that stream, JSON otherwise',
    sse.length >= 2 && json.length >= 5,
    `${sse.length} SSE, ${json.length} JSON of ${posts.length} POSTs`,
  );
  if (!modern) {
    const minted = posts[0]?.mintedSession;
    runner.record('http: initialize mints Mcp-Session-Id', !!minted && minted === sessionId, `${minted?.length ?? 0} chars`);
    const later = ex.slice(1);
    const without = later.filter((e) => e.sessionId !== minted);
    runner.record('http: later requests carry the session', without.length === 0, without.length ? `without: ${without.map(describe)}` : `${later.length} requests`);
    const versions = [...new Set(later.map((e) => e.version))];
    runner.record('http: MCP-Protocol-Version 2025-11-25', versions.length === 1 && versions[0] === LEGACY, `sent ${versions}`);
    const deletes = ex.filter((e) => e.method === 'DELETE');
    runner.record('http: DELETE ends the session', deletes.length === 1 && deletes[0].status === 200, `${deletes.map(describe)}`);
  } else {
    const minted = ex.filter((e) => e.mintedSession);
    runner.record('http: no session minted', minted.length === 0, minted.length ? `minted by ${minted.map(describe)}` : 'none');
    const others = ex.filter((e) => e.method !== 'POST' && !(e.method === 'GET' && e.status === 405));
    runner.record('http: POST only', others.length === 0, others.length ? `${others.map(describe)}` : `${posts.length} POSTs`);
    const versions = [...new Set(posts.map((e) => e.version))];
    runner.record('http: MCP-Protocol-Version 2026-07-28', versions.length === 1 && versions[0] === MODERN, `sent ${versions}`);
    const noMethod = posts.filter((e) => !e.mcpMethod);
    runner.record('http: Mcp-Method on every POST', noMethod.length === 0, noMethod.length ? `missing on ${noMethod.map(describe)}` : 'present');
  }
}

function finish(runner) {
  console.log(`${runner.passed} passed, ${runner.failed} failed`);
  process.exitCode = runner.failed === 0 && runner.passed > 0 ? 0 : 1;
}

main().catch((e) => {
  console.log(`FAIL run: ${e?.stack ?? e}`);
  console.log('0 passed, 1 failed');
  process.exitCode = 1;
});
