import {
  encodeEvent,
  eventFromCloudEventData,
  PoisonMessageError,
} from '../../../functions/src/core/pubsub-envelope.js';
import type { RunEvent } from '../../../functions/src/core/event.js';

const event: RunEvent = {
  schemaVersion: 1,
  kind: 'raw_snapshot',
  runId: 'coingecko_usd_20261121T050000Z',
  source: 'coingecko',
  vsCurrency: 'usd',
  slot: '2026-11-21T05:00:00.000Z',
  bucket: 'b',
  object: 'raw/x.json',
  generation: '1732165200000000',
  recordCount: 250,
};
const wrap = (data: string) => ({ message: { data, attributes: {}, messageId: 'm1' } });

describe('eventFromCloudEventData', () => {
  it('decodes a valid pointer event', () => {
    expect(eventFromCloudEventData(wrap(encodeEvent(event)))).toEqual({ event, messageId: 'm1' });
  });

  it.each([
    ['no message', {}, /not a Pub\/Sub messagePublished event/],
    ['empty data', wrap(''), /message has no data/],
    ['not JSON', wrap(Buffer.from('hello').toString('base64')), /data is not JSON/],
    ['wrong schema version', wrap(encodeEvent({ ...event, schemaVersion: 2 as 1 })), /schemaVersion/],
    [
      'numeric generation',
      wrap(Buffer.from(JSON.stringify({ ...event, generation: 5 })).toString('base64')),
      /generation/,
    ],
    ['bad run id', wrap(encodeEvent({ ...event, runId: 'x' })), /runId: not a run id/],
  ])('rejects a poison message (%s) as terminal', (_name, data, message) => {
    let error: unknown;
    try {
      eventFromCloudEventData(data);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PoisonMessageError);
    expect((error as PoisonMessageError).retryable).toBe(false);
    expect((error as Error).message).toMatch(message);
  });
});
