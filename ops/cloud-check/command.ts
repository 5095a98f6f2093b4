import type { CloudCheckIo } from './progress.js';

/**
 * The preamble the ops commands (`cloud-check`, `replay --stack`) share, so that their usage
 * contract cannot drift apart: `--help` prints the usage and exits 0; a usage error prints the
 * error and the usage and exits 2, before anything is read or called; otherwise `run` gets the
 * parsed options and its exit code is the command's.
 */
export async function runCloudCommand<Options>(
  args: string[],
  io: CloudCheckIo,
  usage: string,
  parse: (args: string[]) => Options | 'help',
  run: (options: Options) => Promise<number>,
): Promise<number> {
  let parsed: Options | 'help';
  try {
    parsed = parse(args);
  } catch (e) {
    io.out(`error: ${(e as Error).message}\n\n${usage}`);
    return 2;
  }
  if (parsed === 'help') {
    io.out(usage);
    return 0;
  }
  return run(parsed);
}
