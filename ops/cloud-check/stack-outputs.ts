import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import * as z from 'zod';

/**
 * The stack outputs cloud-check needs (infra/index.ts exports them). Read from
 * `pulumi stack output --json --stack S`, or from a file holding that JSON (`--outputs FILE`).
 */
export interface StackOutputs {
  project: string;
  region: string;
  bigqueryLocation: string;
  dataset: string;
  schedulerJob: string;
  deadLetterSubscription: string;
  extractFunction: string;
  loadFunction: string;
  cadenceMinutes: number;
}

const OUTPUTS = z.object({
  gcpProject: z.string().min(1),
  region: z.string().min(1),
  bigqueryLocation: z.string().min(1),
  bigqueryDataset: z.string().min(1),
  schedulerJob: z.string().min(1),
  deadLetterSubscription: z.string().min(1),
  extractFunction: z.string().min(1),
  loadFunction: z.string().min(1),
  cadenceMinutes: z.number().int().positive(),
});

/** Runs a program and resolves with its stdout; rejects on a non-zero exit or after `timeoutMs`. */
export type ExecFn = (file: string, args: string[], timeoutMs: number) => Promise<string>;

export const execProgram: ExecFn = (file, args, timeoutMs) =>
  new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const e = error as NodeJS.ErrnoException & { killed?: boolean };
      if (e.code === 'ENOENT')
        return reject(
          new Error(`${file} is not installed or not on PATH (README.md, "Deploy to Google Cloud")`),
        );
      if (e.killed)
        return reject(new Error(`${file} ${args.join(' ')} did not finish within ${timeoutMs / 1000} s`));
      reject(new Error(`${file} ${args.join(' ')} failed: ${(stderr || e.message).trim()}`));
    });
  });

/** Validates the outputs' JSON; one error names every missing or malformed output. */
export function parseStackOutputs(json: unknown): StackOutputs {
  const parsed = OUTPUTS.safeParse(json);
  if (!parsed.success) {
    const keys = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? '?')))];
    throw new Error(
      `stack outputs missing or invalid: ${keys.join(', ')}. Deploy this version first (\`pulumi up\`), then run cloud-check again.`,
    );
  }
  const o = parsed.data;
  return {
    project: o.gcpProject,
    region: o.region,
    bigqueryLocation: o.bigqueryLocation,
    dataset: o.bigqueryDataset,
    schedulerJob: o.schedulerJob,
    deadLetterSubscription: o.deadLetterSubscription,
    extractFunction: o.extractFunction,
    loadFunction: o.loadFunction,
    cadenceMinutes: o.cadenceMinutes,
  };
}

/** The outputs of `stack` (through the Pulumi CLI) or of the JSON file `outputsFile`. */
export async function readStackOutputs(
  source: { stack?: string; outputsFile?: string },
  exec: ExecFn,
  timeoutMs: number,
): Promise<StackOutputs> {
  return parseStackOutputs(await readStackOutputsJson(source, exec, timeoutMs));
}

/**
 * The outputs' JSON, not yet validated: other ops commands (replay) read the same source and pick
 * the outputs they need.
 */
export async function readStackOutputsJson(
  source: { stack?: string; outputsFile?: string },
  exec: ExecFn,
  timeoutMs: number,
): Promise<unknown> {
  let text: string;
  if (source.outputsFile !== undefined) text = await readFile(source.outputsFile, 'utf8');
  else if (source.stack !== undefined)
    // --non-interactive: a missing PULUMI_CONFIG_PASSPHRASE fails with Pulumi's own message
    // instead of a prompt nobody can answer through a pipe.
    text = await exec(
      'pulumi',
      ['stack', 'output', '--json', '--stack', source.stack, '--non-interactive'],
      timeoutMs,
    );
  else throw new Error('give --stack <name> (or --outputs <file>)');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`stack outputs are not JSON: ${text.slice(0, 120)}`);
  }
}
