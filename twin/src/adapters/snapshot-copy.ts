import { rename, rm } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';

const sqlText = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * Writes a copy of the connection's database to `target`, for readers while this process holds the
 * file (DuckDB lets one process open a file for writing and no one else in). DuckDB writes the copy
 * itself (`COPY FROM DATABASE`), from one transaction, so the copy holds the committed loads and
 * nothing of a load in progress; it is written beside the target and renamed into place, so a
 * reader never opens a half-written one. The file is never copied by hand: opening and closing it
 * from this process would release DuckDB's POSIX lock on it, letting a second writer in.
 *
 * `connection` is a connection of its own (not the writer's), so the loads go on while the copy is
 * written instead of waiting for it: the copy is a reader like any other.
 */
export async function copyDatabase(connection: DuckDBConnection, target: string): Promise<void> {
  const partial = `${target}.partial`;
  await rm(partial, { force: true });
  await rm(`${partial}.wal`, { force: true });
  const names = await connection.runAndReadAll('select current_database() as name');
  const name = String(names.getRows()[0]![0]);
  await connection.run(`ATTACH ${sqlText(partial)} AS snapshot_copy`);
  try {
    await connection.run(`COPY FROM DATABASE "${name.replaceAll('"', '""')}" TO snapshot_copy`);
  } finally {
    await connection.run('DETACH snapshot_copy');
  }
  await rename(partial, target);
}
