import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PipelineEvent } from '../../functions/src/core/event.js';
import { decodeRawObject } from '../../functions/src/core/raw-object.js';
import { runExtract } from '../../functions/src/extract/run-extract.js';
import { FolderLake } from '../../twin/src/adapters/folder-lake.js';
import {
  json,
  makeClientFor,
  sequence,
  startScriptedServer,
  type ScriptedServer,
} from '../support/coingecko-stub.js';
import { memoryLogger, tempDir } from '../support/twin-harness.js';

/**
 * The API key never lands in the lake, an event, a log line or an error (issue 8), even when the
 * API or a proxy echoes it back, verbatim, URL-encoded or JSON-escaped. The key has characters
 * that URL- and JSON-encoding change, so each form is a different byte string.
 */
const SECRET = 'CG-s3cr3t/K3y+v4l=ue&x';
const FORMS = [
  SECRET,
  'CG-s3cr3t%2FK3y%2Bv4l%3Due%26x', // encodeURIComponent
  'CG-s3cr3t%2fK3y%2bv4l%3due%26x', // the same with lower-case escapes
  'CG-s3cr3t\\/K3y+v4l=ue&x', // JSON with an escaped solidus
];

/** Every file below `dir`, as text. */
function filesUnder(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const path = join(e.parentPath, e.name);
      return { path, text: readFileSync(path, 'latin1') };
    });
}

const leaks = (text: string) => FORMS.filter((form) => text.includes(form));

let stub: ScriptedServer;
let dir: string;
let reply: ReturnType<typeof sequence>;
beforeEach(async () => {
  dir = tempDir('cmp-redact-');
  stub = await startScriptedServer((request, index) => reply(request, index));
});
afterEach(async () => {
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

async function extract() {
  const { client, clock } = makeClientFor(stub.url, { plan: 'demo', apiKey: SECRET, retryBudgetMs: 5_000 });
  const lake = new FolderLake(join(dir, 'lake'));
  const events: PipelineEvent[] = [];
  const logger = memoryLogger();
  const loggedFields: unknown[] = [];
  const outcome = await runExtract(
    new Date('2026-11-21T05:00:00Z'),
    { vsCurrency: 'usd', coinLimit: 2, perPage: 2, cadenceMinutes: 15, secrets: [SECRET] },
    {
      market: client,
      lake,
      publisher: { publish: async (e) => (events.push(e), String(events.length)) },
      clock,
      logger: {
        log: (severity, message, fields) => {
          logger.log(severity, message, fields);
          loggedFields.push(fields);
        },
      },
    },
  ).then(
    (summary) => ({ summary, error: undefined }),
    (error: unknown) => ({ summary: undefined, error: error as Error & { details?: unknown } }),
  );
  return { outcome, lake, events, logged: JSON.stringify([logger.lines, loggedFields]) };
}

describe('the API key is redacted from everything stored or logged', () => {
  test('an error body that echoes the key in several forms', async () => {
    const body =
      `{"status":{"error_code":10002,"error_message":"invalid key ${SECRET}"},` +
      `"request":"/api/v3/coins/markets?x_cg_demo_api_key=${FORMS[1]}&lower=${FORMS[2]}",` +
      `"php":"${FORMS[3]}"}`;
    reply = sequence({ status: 401, headers: { 'content-type': 'application/json' }, body });
    const { outcome, events, logged } = await extract();
    expect(outcome.error).toMatchObject({ code: 'coingecko_api_error' });

    const files = filesUnder(join(dir, 'lake'));
    expect(files).toHaveLength(1); // the failure record, with the body kept (redacted)
    const record = JSON.parse(files[0]!.text) as { body: string; error: { message: string } };
    expect(record.body).toContain('[redacted]');
    expect(record.body).toContain('x_cg_demo_api_key=');
    expect(files.map((f) => ({ path: f.path, leaks: leaks(f.text) }))).toEqual(
      files.map((f) => ({ path: f.path, leaks: [] })),
    );
    expect(leaks(JSON.stringify(events))).toEqual([]);
    expect(events).toEqual([expect.objectContaining({ kind: 'run_failed' })]);
    expect(leaks(logged)).toEqual([]);
    expect(leaks(`${outcome.error?.message} ${JSON.stringify(outcome.error?.details)}`)).toEqual([]);
  });

  test('a successful body into which a proxy injected the key', async () => {
    const coin = (id: string, name: string) => ({ id, symbol: id, name, current_price: 1 });
    reply = sequence(json([coin('bitcoin', `Bitcoin ${SECRET}`), coin('ethereum', `Ether ${FORMS[1]}`)]));
    const { outcome, lake, events, logged } = await extract();
    expect(outcome.summary).toMatchObject({ status: 'extracted', records: 2 });

    const [raw] = await lake.list('raw/');
    const bytes = readFileSync(join(dir, 'lake', raw!));
    expect(leaks(bytes.toString('latin1'))).toEqual([]);
    const decoded = decodeRawObject(bytes);
    expect(decoded.pages).toEqual([
      [coin('bitcoin', 'Bitcoin [redacted]'), coin('ethereum', 'Ether [redacted]')],
    ]);
    // The manifest describes the bytes that were stored.
    expect(decoded.manifest.pages[0]!.bytes).toBe(Buffer.byteLength(JSON.stringify(decoded.pages[0])));
    expect(leaks(JSON.stringify(events))).toEqual([]);
    expect(leaks(logged)).toEqual([]);
  });
});
