import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventAttributes, type PipelineEvent } from '../../../functions/src/core/event.js';
import { describeError } from '../../../functions/src/core/errors.js';
import type { Logger } from '../../../functions/src/core/logger.js';
import type { Clock, EventPublisher } from '../../../functions/src/core/ports.js';
import { encodeEvent, type PushEnvelope } from '../../../functions/src/core/pubsub-envelope.js';

export interface LocalPubSubOptions {
  /** Folder holding `pending/` (not yet acknowledged) and `dead-letter/` messages. */
  dir: string;
  subscription: string;
  /** Like a dead-letter policy's max delivery attempts (Pub/Sub's minimum is 5). */
  maxDeliveryAttempts: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  clock: Clock;
  logger: Logger;
  random?: () => number;
}

/** The push endpoint: resolve to acknowledge, throw to have the message redelivered. */
export type PushHandler = (envelope: PushEnvelope) => Promise<void>;

interface StoredMessage {
  envelope: PushEnvelope;
  attempts: number;
  lastError?: string;
}

/**
 * The twin's Pub/Sub: a topic with one push subscription, delivered in-process at least once.
 * A message is written to `pending/` before publish returns and removed only when the handler
 * acknowledges it, so a crash redelivers it on the next start (`recover`). Failed deliveries are
 * retried with jittered exponential backoff; after `maxDeliveryAttempts` the message moves to
 * `dead-letter/`, from where `redrive` puts it back.
 */
export class LocalPubSub implements EventPublisher {
  private handler: PushHandler | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Scheduled deliveries, with the function that settles their in-flight promise if cancelled. */
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private closed = false;
  private sequence = 0;

  constructor(private readonly options: LocalPubSubOptions) {}

  private get pendingDir() {
    return join(this.options.dir, 'pending');
  }
  get deadLetterDir(): string {
    return join(this.options.dir, 'dead-letter');
  }

  subscribe(handler: PushHandler): void {
    this.handler = handler;
  }

  async publish(event: PipelineEvent): Promise<string> {
    const now = this.options.clock.now();
    // Time-ordered ids keep `pending/` and `dead-letter/` listings in publish order.
    const messageId = `${now.getTime()}-${String(this.sequence++).padStart(6, '0')}-${randomBytes(3).toString('hex')}`;
    const message: StoredMessage = {
      envelope: {
        message: {
          data: encodeEvent(event),
          attributes: eventAttributes(event),
          messageId,
          publishTime: now.toISOString(),
        },
        subscription: this.options.subscription,
      },
      attempts: 0,
    };
    await mkdir(this.pendingDir, { recursive: true });
    await writeFile(join(this.pendingDir, `${messageId}.json`), JSON.stringify(message));
    this.schedule(message, 0);
    return messageId;
  }

  /** Redelivers messages left pending by a previous process. */
  async recover(): Promise<number> {
    const files = await listJson(this.pendingDir);
    for (const file of files) {
      const message = JSON.parse(await readFile(join(this.pendingDir, file), 'utf8')) as StoredMessage;
      this.schedule(message, 0);
    }
    return files.length;
  }

  /** Moves dead-lettered messages back to pending and delivers them again from attempt 1. */
  async redrive(): Promise<number> {
    const files = await listJson(this.deadLetterDir);
    await mkdir(this.pendingDir, { recursive: true });
    for (const file of files) {
      const message = JSON.parse(await readFile(join(this.deadLetterDir, file), 'utf8')) as StoredMessage;
      const fresh: StoredMessage = { envelope: message.envelope, attempts: 0 };
      await writeFile(join(this.pendingDir, file), JSON.stringify(fresh));
      await rm(join(this.deadLetterDir, file));
      this.schedule(fresh, 0);
    }
    return files.length;
  }

  async deadLetters(): Promise<StoredMessage[]> {
    const files = await listJson(this.deadLetterDir);
    return Promise.all(
      files.map(
        async (f) => JSON.parse(await readFile(join(this.deadLetterDir, f), 'utf8')) as StoredMessage,
      ),
    );
  }

  /** Resolves once every published message has been acknowledged or dead-lettered. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops scheduling; messages not yet acknowledged stay in `pending/` for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [timer, cancel] of this.timers) {
      clearTimeout(timer);
      cancel();
    }
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private schedule(message: StoredMessage, delayMs: number): void {
    if (this.closed) return;
    let release!: () => void;
    const done = new Promise<void>((r) => (release = r));
    this.inFlight.add(done);
    const cancel = () => {
      this.inFlight.delete(done);
      release();
    };
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.deliver(message)
        .catch((e) => this.options.logger.log('ERROR', `event bus: ${describeError(e).message}`))
        .finally(cancel);
    }, delayMs);
    this.timers.set(timer, cancel);
  }

  private async deliver(message: StoredMessage): Promise<void> {
    const { logger, maxDeliveryAttempts } = this.options;
    const id = message.envelope.message.messageId;
    if (!this.handler) throw new Error('no subscriber: call subscribe() before publishing');
    const attempt = message.attempts + 1;
    const file = `${id}.json`;
    try {
      await this.handler({ ...message.envelope, deliveryAttempt: attempt });
      await rm(join(this.pendingDir, file), { force: true });
      return;
    } catch (error) {
      const failed: StoredMessage = {
        ...message,
        attempts: attempt,
        lastError: describeError(error).message,
      };
      if (attempt >= maxDeliveryAttempts) {
        await mkdir(this.deadLetterDir, { recursive: true });
        await writeFile(join(this.deadLetterDir, file), JSON.stringify(failed, null, 2));
        await rm(join(this.pendingDir, file), { force: true });
        logger.log('ERROR', `message ${id} dead-lettered after ${attempt} attempts: ${failed.lastError}`, {
          messageId: id,
          code: 'dead_lettered',
        });
        return;
      }
      await writeFile(join(this.pendingDir, file), JSON.stringify(failed));
      const delay = this.backoff(attempt);
      logger.log(
        'WARNING',
        `message ${id} attempt ${attempt} failed, retrying in ${delay} ms: ${failed.lastError}`,
        {
          messageId: id,
        },
      );
      this.schedule(failed, delay);
    }
  }

  /** Exponential backoff with full jitter between the retry policy's bounds. */
  private backoff(attempt: number): number {
    const { minBackoffMs, maxBackoffMs, random = Math.random } = this.options;
    const ceiling = Math.min(maxBackoffMs, minBackoffMs * 2 ** (attempt - 1));
    return Math.round(minBackoffMs + random() * (ceiling - minBackoffMs));
  }
}

async function listJson(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

export const LOCAL_SUBSCRIPTION = 'projects/local/subscriptions/market-runs-load';
