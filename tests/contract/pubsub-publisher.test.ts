import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PubSub } from '@google-cloud/pubsub';
import {
  classifyPublishError,
  GrpcStatus,
  PubSubEventPublisher,
  type MessageTopic,
} from '../../functions/src/adapters/gcp/pubsub-publisher.js';
import { PipelineError } from '../../functions/src/core/errors.js';
import { EVENT_SCHEMA_VERSION, RunEventSchema, type RunEvent } from '../../functions/src/core/event.js';
import { ExtractError } from '../../functions/src/extract/errors.js';

/**
 * The Pub/Sub publisher through its client API (ARCHITECTURE.md §6): first against a typed fake
 * `Topic`, then with the real @google-cloud/pubsub client against a local gRPC Publisher service
 * built from the client's own protos, so the wire-level message (data, attributes, topic) is
 * checked too. Nothing leaves 127.0.0.1.
 */

const EVENT: RunEvent = {
  schemaVersion: EVENT_SCHEMA_VERSION,
  kind: 'raw_snapshot',
  runId: 'coingecko_usd_20261121T050000Z',
  source: 'coingecko',
  vsCurrency: 'usd',
  slot: '2026-11-21T05:00:00.000Z',
  bucket: 'crypto-lake',
  object: 'raw/coingecko/coins_markets/vs_currency=usd/dt=2026-11-21/coingecko_usd_20261121T050000Z.json',
  generation: '1763701200123456',
  recordCount: 250,
};

const ATTRIBUTES = {
  schemaVersion: '1',
  kind: 'raw_snapshot',
  runId: 'coingecko_usd_20261121T050000Z',
  slot: '2026-11-21T05:00:00.000Z',
};

async function rejection(promise: Promise<unknown>): Promise<PipelineError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof PipelineError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

class FakeTopic implements MessageTopic {
  readonly name = 'projects/test/topics/runs';
  readonly sent: { data: Buffer; attributes: Record<string, string> }[] = [];
  failWith: unknown;

  async publishMessage(message: { data: Buffer; attributes: Record<string, string> }): Promise<string> {
    this.sent.push(message);
    if (this.failWith !== undefined) throw this.failWith;
    return `msg-${this.sent.length}`;
  }
}

const grpcError = (code: number, details: string) =>
  Object.assign(new Error(`${code} ${details}`), { code, details });

describe('PubSubEventPublisher over a typed Topic fake', () => {
  it('publishes the JSON pointer as data with the event attributes and returns the message id', async () => {
    const topic = new FakeTopic();

    await expect(new PubSubEventPublisher(topic).publish(EVENT)).resolves.toBe('msg-1');

    expect(topic.sent).toHaveLength(1);
    const [message] = topic.sent;
    expect(RunEventSchema.parse(JSON.parse(message!.data.toString('utf8')))).toEqual(EVENT);
    expect(message!.attributes).toEqual(ATTRIBUTES);
  });

  it('refuses an invalid event without publishing it (it would poison every subscriber)', async () => {
    const topic = new FakeTopic();

    const error = await rejection(new PubSubEventPublisher(topic).publish({ ...EVENT, generation: 'abc' }));

    expect(error).toBeInstanceOf(ExtractError);
    expect(error).toMatchObject({ code: 'event_invalid', retryable: false });
    expect(topic.sent).toEqual([]);
  });

  it.each([
    ['UNAVAILABLE', GrpcStatus.UNAVAILABLE, true],
    ['DEADLINE_EXCEEDED', GrpcStatus.DEADLINE_EXCEEDED, true],
    ['RESOURCE_EXHAUSTED', GrpcStatus.RESOURCE_EXHAUSTED, true],
    ['INTERNAL', GrpcStatus.INTERNAL, true],
    ['ABORTED', GrpcStatus.ABORTED, true],
    ['CANCELLED', GrpcStatus.CANCELLED, true],
    ['UNKNOWN', GrpcStatus.UNKNOWN, true],
    ['INVALID_ARGUMENT', GrpcStatus.INVALID_ARGUMENT, false],
    ['NOT_FOUND', GrpcStatus.NOT_FOUND, false],
    ['PERMISSION_DENIED', GrpcStatus.PERMISSION_DENIED, false],
    ['UNAUTHENTICATED', GrpcStatus.UNAUTHENTICATED, false],
    ['FAILED_PRECONDITION', GrpcStatus.FAILED_PRECONDITION, false],
  ])('classifies gRPC %s (%i) as an ExtractError, retryable: %s', async (name, code, retryable) => {
    const topic = new FakeTopic();
    topic.failWith = grpcError(code, 'from the server');

    const error = await rejection(new PubSubEventPublisher(topic).publish(EVENT));

    expect(error).toBeInstanceOf(ExtractError);
    expect(error).toMatchObject({ stage: 'extract', code: `pubsub_${name.toLowerCase()}`, retryable });
    expect(error.details).toMatchObject({ topic: 'projects/test/topics/runs', grpcCode: code });
  });

  it('reads the status of the error a PublishError wraps', () => {
    const wrapped = Object.assign(new Error('Unable to publish for key'), {
      error: grpcError(GrpcStatus.NOT_FOUND, 'no topic'),
    });

    expect(classifyPublishError(wrapped, 't')).toMatchObject({ code: 'pubsub_not_found', retryable: false });
  });

  it('treats an error without a gRPC status as retryable', () => {
    expect(classifyPublishError(new Error('socket hang up'), 't')).toMatchObject({
      code: 'pubsub_publish_failed',
      retryable: true,
    });
  });
});

describe('PubSubEventPublisher with the real @google-cloud/pubsub client over gRPC', () => {
  interface PublishRequest {
    topic: string;
    messages: { data: Buffer; attributes: Record<string, string> }[];
  }
  type Answer = { error: { code: number; details: string } } | { ids: string[] };

  const received: PublishRequest[] = [];
  const answers: Answer[] = [];
  let server: grpc.Server;
  let pubsub: PubSub;

  beforeAll(async () => {
    // The client's own protos, so the fake speaks exactly the service the client calls.
    const require = createRequire(import.meta.url);
    const includeDirs = [
      join(dirname(require.resolve('@google-cloud/pubsub')), '..', 'protos'),
      join(dirname(require.resolve('google-gax')), '..', 'protos'),
    ];
    const definition = protoLoader.loadSync('google/pubsub/v1/pubsub.proto', {
      includeDirs,
      longs: String,
      defaults: true,
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      google: { pubsub: { v1: { Publisher: { service: grpc.ServiceDefinition } } } };
    };
    server = new grpc.Server();
    server.addService(loaded.google.pubsub.v1.Publisher.service, {
      Publish: (
        call: grpc.ServerUnaryCall<PublishRequest, { messageIds: string[] }>,
        callback: grpc.sendUnaryData<{ messageIds: string[] }>,
      ) => {
        received.push(call.request);
        const answer = answers.shift() ?? {
          ids: call.request.messages.map((_, i) => `server-id-${received.length}-${i}`),
        };
        if ('error' in answer) callback(answer.error);
        else callback(null, { messageIds: answer.ids });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    // emulatorMode: plaintext gRPC, no credentials. universeDomain: without it the auth library
    // probes the GCE metadata server for one, i.e. leaves the machine.
    pubsub = new PubSub({
      projectId: 'test',
      apiEndpoint: `127.0.0.1:${port}`,
      emulatorMode: true,
      universeDomain: 'googleapis.com',
    });
  });

  afterAll(async () => {
    await pubsub.close();
    server.forceShutdown();
  });

  beforeEach(() => {
    received.length = 0;
    answers.length = 0;
  });

  // One message per batch, as the extract function publishes; no gax retries so failures show at once.
  const topic = () => pubsub.topic('runs', { batching: { maxMessages: 1 }, gaxOpts: { maxRetries: 0 } });

  it('sends one Publish call with the JSON data and attributes, and returns the server message id', async () => {
    const id = await new PubSubEventPublisher(topic()).publish(EVENT);

    expect(id).toBe('server-id-1-0');
    expect(received).toHaveLength(1);
    expect(received[0]!.topic).toBe('projects/test/topics/runs');
    expect(received[0]!.messages).toHaveLength(1);
    const [message] = received[0]!.messages;
    expect(JSON.parse(Buffer.from(message!.data).toString('utf8'))).toEqual(EVENT);
    expect(message!.attributes).toEqual(ATTRIBUTES);
  });

  it.each([
    ['PERMISSION_DENIED', grpc.status.PERMISSION_DENIED, 'pubsub_permission_denied', false],
    ['NOT_FOUND', grpc.status.NOT_FOUND, 'pubsub_not_found', false],
    ['INVALID_ARGUMENT', grpc.status.INVALID_ARGUMENT, 'pubsub_invalid_argument', false],
    // gax retries these codes itself; when its retries run out it reports DEADLINE_EXCEEDED, with
    // the server's error in the message. Still retryable, as it should be.
    ['UNAVAILABLE', grpc.status.UNAVAILABLE, 'pubsub_deadline_exceeded', true],
    ['RESOURCE_EXHAUSTED', grpc.status.RESOURCE_EXHAUSTED, 'pubsub_deadline_exceeded', true],
  ])(
    'classifies a server answering %s (gRPC %i) as %s, retryable: %s',
    async (name, code, expected, retryable) => {
      answers.push({ error: { code, details: `fake ${name}` } });

      const error = await rejection(new PubSubEventPublisher(topic()).publish(EVENT));

      expect(error).toMatchObject({ code: expected, retryable });
      expect(error.message).toContain(`fake ${name}`);
    },
  );
});
