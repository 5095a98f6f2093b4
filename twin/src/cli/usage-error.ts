/**
 * Bad usage or configuration: the command line or the environment asks for something that cannot
 * work. The CLI exits 2 for these (README: exit codes), 1 for failures of the work itself.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
