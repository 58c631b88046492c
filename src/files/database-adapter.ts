import type { Driver } from '../storage/driver.ts';
import type { FilesAdapter } from './adapter.ts';

/**
 * Files in the database, in a table of their own (not a class: its name cannot be a class name, so no
 * client request can reach it). Embedded PGlite and PostgreSQL alike need nothing else installed, and a
 * backup of the database is a backup of the files.
 */
const DDL = `CREATE TABLE IF NOT EXISTS "_Files" (
  "name" text PRIMARY KEY,
  "contentType" text NOT NULL,
  "size" integer NOT NULL,
  "data" bytea NOT NULL,
  "createdAt" timestamptz NOT NULL DEFAULT now()
)`;

/** PGlite hands bytea back as a Uint8Array, pg as a Buffer: one shape for the callers, without a copy. */
function asBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new Error('unexpected bytea value');
}

export function databaseFilesAdapter(driver: Driver): FilesAdapter {
  let ready: Promise<unknown> | undefined;
  // Created on first use, so a server that never stores a file never gets the table.
  const table = (): Promise<unknown> => (ready ??= driver.query(DDL).catch((error: unknown) => {
    ready = undefined;
    throw error;
  }));
  return {
    async createFile(filename, data, contentType) {
      await table();
      await driver.query('INSERT INTO "_Files" ("name", "contentType", "size", "data") VALUES ($1, $2, $3, $4)', [
        filename,
        contentType ?? 'application/octet-stream',
        data.length,
        data,
      ]);
    },
    async deleteFile(filename) {
      await table();
      const result = await driver.query('DELETE FROM "_Files" WHERE "name" = $1', [filename]);
      if (result.rowCount === 0) throw new Error('file not found');
    },
    async getFileData(filename) {
      await table();
      const result = await driver.query<{ data: unknown }>('SELECT "data" FROM "_Files" WHERE "name" = $1', [filename]);
      const row = result.rows[0];
      if (row === undefined) throw new Error('file not found');
      return asBuffer(row.data);
    },
  };
}
