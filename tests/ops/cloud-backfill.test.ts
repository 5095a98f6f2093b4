import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { backfillRequestFromPush, chunkOfRequest } from '../../functions/src/history/backfill-request.js';
import { main } from '../../twin/src/cli/main.js';
import { FakeGcpServer, googleError, type RecordedRequest } from '../support/fake-gcp-server.js';

/**
 * `crypto-pipeline backfill --stack` against a local HTTP fake of Pub/Sub (CLOUD_CHECK_PUBSUB_URL):
 * one request per planned chunk (every configured currency) on the stack's backfillRequestsTopic,
 * each a message the extract function's push handler accepts; refusals reported, exit 1.
 */
const PROJECT = 'acme-2fa-prod';
const TOPIC = 'crypto-dev-backfill-requests';
const PUBLISH = `/v1/projects/${PROJECT}/topics/${TOPIC}:publish`;
const DAY = 86_400_000;
const day = (daysAgo: number) =>
  new Date(Math.floor(Date.now() / DAY) * DAY - daysAgo * DAY).toISOString().slice(0, 10);
const ARGS = ['backfill', '--coins', 'bitcoin,ethereum', '--from', day(30), '--to', day(11)];

let server: FakeGcpServer;
let dir: string;
let outputsFile: string;
beforeAll(async () => {
  server = await FakeGcpServer.start();
  dir = mkdtempSync(join(tmpdir(), 'cloud-backfill-'));
  outputsFile = join(dir, 'outputs.json');
  writeFileSync(
    outputsFile,
    JSON.stringify({ gcpProject: PROJECT, backfillRequestsTopic: TOPIC, rawBucket: 'acme-crypto-raw' }),
  );
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

let published = 0;
beforeEach(() => {
  server.reset();
  published = 0;
  server.on('POST', PUBLISH, (req) => {
    const n = (JSON.parse(req.body.toString()) as { messages: unknown[] }).messages.length;
    return { body: { messageIds: Array.from({ length: n }, () => String(++published)) } };
  });
});

async function backfill(extra: string[], outputs = outputsFile) {
  const lines: string[] = [];
  const code = await main(
    [...ARGS, '--outputs', outputs, ...extra],
    {
      COINGECKO_PLAN: 'demo',
      VS_CURRENCIES: 'usd,eur',
      CLOUD_CHECK_ACCESS_TOKEN: 'test-token',
      CLOUD_CHECK_PUBSUB_URL: `${server.url}/`,
    },
    { out: (l) => lines.push(l), err: (l) => lines.push(l) },
  );
  return { code, text: lines.join('\n') };
}

const messagesOf = (reqs: RecordedRequest[]) =>
  reqs.flatMap(
    (r) =>
      (JSON.parse(r.body.toString()) as { messages: { data: string; attributes: Record<string, string> }[] })
        .messages,
  );

describe('backfill --stack', () => {
  it("publishes one request per chunk and currency to the stack's backfillRequestsTopic", async () => {
    const r = await backfill(['--json']);
    expect(r.code).toBe(0);
    const requests = server.find('POST', PUBLISH);
    expect(requests[0]!.headers.authorization).toBe('Bearer test-token');
    const messages = messagesOf(requests);
    // The extract function's push handler reads each one as a backfill request.
    const chunks = messages.map((m) => {
      const parsed = backfillRequestFromPush({ message: { data: m.data } });
      if (!parsed.ok) throw new Error(parsed.problem);
      return chunkOfRequest(parsed.request);
    });
    expect(chunks.map((c) => `${c.coinId} ${c.vsCurrency}`).sort()).toEqual([
      'bitcoin eur',
      'bitcoin usd',
      'ethereum eur',
      'ethereum usd',
    ]);
    expect(messages.map((m) => m.attributes.chunkId)).toEqual(chunks.map((c) => c.chunkId));
    expect(JSON.parse(r.text)).toEqual({
      topic: `projects/${PROJECT}/topics/${TOPIC}`,
      requests: 4,
      published: 4,
      failed: [],
    });
  });

  it('retries a 503, then says what it published', async () => {
    server.first('POST', PUBLISH, googleError(503, 'backendError', 'The service is currently unavailable.'));
    const r = await backfill([]);
    expect(r.code).toBe(0);
    expect(server.find('POST', PUBLISH)).toHaveLength(2);
    expect(r.text).toMatch(
      /published 4 of 4 chunk request\(s\) to projects\/acme-2fa-prod\/topics\/crypto-dev-backfill-requests, 0 failed/,
    );
  });

  it('a refused publish names every chunk it carried and exits 1', async () => {
    server.first(
      'POST',
      PUBLISH,
      googleError(403, 'PERMISSION_DENIED', 'User not authorized to perform this action.'),
    );
    const r = await backfill(['--json']);
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.text) as {
      published: number;
      failed: { chunkId: string; reason: string }[];
    };
    expect(summary.published).toBe(0);
    expect(summary.failed).toHaveLength(4);
    expect(summary.failed[0]!.reason).toMatch(/publish failed: .*User not authorized/);
  });

  it('outputs of an older deployment: exit 1 naming the missing output, nothing published', async () => {
    const old = join(dir, 'old.json');
    writeFileSync(old, JSON.stringify({ gcpProject: PROJECT }));
    const r = await backfill([], old);
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/stack outputs missing or invalid: backfillRequestsTopic/);
    expect(server.find('POST', PUBLISH)).toHaveLength(0);
  });

  it('--print-requests and --stack together are a usage error (exit 2)', async () => {
    const r = await backfill(['--print-requests']);
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/--print-requests or --stack, not both/);
  });
});
