import { randomBytes } from 'node:crypto';
import pg from 'pg';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface PostgresTarget {
  /** Where to create the bench database (an admin connection). */
  readonly baseUrl: string;
  /** Set by the user: then an unreachable server is an error, not a skip. */
  readonly explicit: boolean;
}

export function postgresTarget(): PostgresTarget {
  const configured = process.env.PARSEC_BENCH_DATABASE_URL || process.env.PARSEC_TEST_DATABASE_URL;
  return configured ? { baseUrl: configured, explicit: true } : { baseUrl: DEFAULT_URL, explicit: false };
}

/** Hides the password in anything printed. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Resolves to the server version, or rejects with why it cannot be used. */
export function probe(url: string): Promise<string> {
  return withClient(url, async (client) => {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0]?.server_version ?? 'unknown';
  });
}

export interface FreshDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/** An empty database of its own, so the bench never touches existing data; `drop` removes it. */
export async function createFreshDatabase(baseUrl: string): Promise<FreshDatabase> {
  // The name is generated here from hex only, so interpolating it into DDL is safe.
  const name = `parsec_bench_${randomBytes(6).toString('hex')}`;
  await withClient(baseUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await withClient(baseUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
