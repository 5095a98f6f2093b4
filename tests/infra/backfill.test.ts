import { removeFixtures, runProgram, stackConfig, type Recorded } from './support/harness.js';
import { securityViolations } from './support/posture.js';

/**
 * The cloud backfill's fan-out on Pulumi mocks: the `backfill-requests` topic pushed to extract
 * with its own OIDC identity (the only new invoker), paced by Pub/Sub's retry policy and extract's
 * single instance, with a dead-letter topic that has a subscription; the whole stack stays compliant.
 */
let r: Recorded[];
let outputs: Record<string, unknown>;
beforeAll(async () => {
  const run = await runProgram(stackConfig());
  r = run.resources;
  outputs = run.outputs;
}, 120_000);
afterAll(removeFixtures);

const named = (type: string, name: string) => {
  const found = r.find((x) => x.type.endsWith(`:${type}`) && x.name === name);
  if (!found) throw new Error(`no ${type} ${name}`);
  return found;
};

describe('backfill requests in the cloud', () => {
  it('pushes the requests topic to the extract function with its own OIDC identity', () => {
    const push = named('Subscription', 'backfill-push');
    const extract = named('Function', 'pipeline-extract');
    const extractUrl = (extract.state.serviceConfig as { uri: string }).uri;
    expect(push.inputs).toMatchObject({
      name: 'crypto-dev-backfill-requests-to-extract',
      pushConfig: {
        pushEndpoint: `${extractUrl}/backfill`,
        oidcToken: { audience: extractUrl },
      },
      retryPolicy: { minimumBackoff: '10s', maximumBackoff: '600s' },
      expirationPolicy: { ttl: '' },
    });
    expect(
      (push.inputs.pushConfig as { oidcToken: { serviceAccountEmail: string } }).oidcToken
        .serviceAccountEmail,
    ).toMatch(/^crypto-dev-backfill-push@/);
    expect(outputs.backfillRequestsTopic).toBe('crypto-dev-backfill-requests');
  });

  it('extract stays a single instance handling one request at a time: the plan rate holds', () => {
    const extract = named('Function', 'pipeline-extract');
    expect(extract.inputs.serviceConfig).toMatchObject({
      maxInstanceCount: 1,
      maxInstanceRequestConcurrency: 1,
    });
  });

  it('dead-letters what keeps failing to a topic whose subscription never expires', () => {
    const push = named('Subscription', 'backfill-push');
    const dlq = named('Subscription', 'backfill-dead-letter-sub');
    expect((push.inputs.deadLetterPolicy as { deadLetterTopic: string }).deadLetterTopic).toBe(
      dlq.inputs.topic,
    );
    expect(dlq.inputs.expirationPolicy).toEqual({ ttl: '' });
  });

  it('keeps the whole stack within the security posture', () => {
    expect(securityViolations(r)).toEqual([]);
  });
});
