import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * The run ids ops_run may hold, kept by the one process that writes the warehouse (DuckDB's file
 * lock lets no other in), so that looking up a run that was never recorded costs no statement.
 * Every load asks for its run first (run-load.ts: is it already loaded?), and in a schedule or a
 * replay the answer is nearly always "never seen": that lookup was a statement per load.
 *
 * The set only ever errs towards "may be there": an id is added before any statement that writes
 * its record runs, so a statement or transaction that fails afterwards leaves an id that costs one
 * lookup, never a recorded run reported as missing (which would load it a second time).
 */
export class KnownRuns {
  private ids: Set<string> | undefined;

  /** Reads the ids once (first use); until then every run may be there. */
  async ensure(connection: DuckDBConnection): Promise<void> {
    if (this.ids) return;
    const rows = await connection.runAndReadAll('select run_id from ops_run');
    this.ids = new Set(rows.getRows().map(([id]) => String(id)));
  }

  /** False only when ops_run certainly has no record of `runId`. */
  mayHave(runId: string): boolean {
    return this.ids === undefined || this.ids.has(runId);
  }

  /** Called before a statement that writes the run's record (see the class comment). */
  writing(runId: string): void {
    this.ids?.add(runId);
  }
}
