import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DEFAULT_ACCOUNT_LOCKOUT } from '../../src/config/options.ts';
import { DEFAULT_RATE_LIMIT } from '../../src/config/rate-limit-option.ts';
import { DEFAULT_REQUEST_COMPLEXITY } from '../../src/config/request-complexity-option.ts';
import type { ParsecConfig } from '../../src/config/types.ts';
import { createParsec, type Parsec } from '../../src/server.ts';
import type { EmailAdapter } from '../../src/users/email.ts';
import type { AuthFetch } from '../../src/auth-providers/fetch.ts';

export type Engine = 'pglite' | 'postgres';

/** PGlite always; PostgreSQL when PARSEC_TEST_DATABASE_URL is set (CI sets it, and then it must work). */
export function engines(): Engine[] {
  return process.env.PARSEC_TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

export const APP_ID = 'test-app';
export const MASTER_KEY = 'test-master-key-0123456789abcdef';
export const JS_KEY = 'test-javascript-key';
export const REST_KEY = 'test-rest-key';

export function testConfig(overrides: Partial<ParsecConfig> = {}): ParsecConfig {
  return {
    appId: APP_ID,
    masterKey: MASTER_KEY,
    readOnlyMasterKey: undefined,
    maintenanceKey: undefined,
    clientKeys: { javascriptKey: JS_KEY, restAPIKey: REST_KEY },
    masterKeyIps: ['127.0.0.1', '::1'],
    databaseURI: 'memory://',
    redisURL: undefined,
    cloud: undefined,
    cloudActsAsCaller: true,
    requireFunctionAccess: true,
    cloudTimeoutMs: 10_000,
    ledgerRetentionDays: 90,
    port: 0,
    host: '127.0.0.1',
    mountPath: '/parse',
    serverURL: 'http://localhost:1337/parse',
    defaultLimit: 100,
    maxLimit: 1000,
    allowClientClassCreation: true,
    allowCustomObjectId: false,
    batchRequestLimit: 50,
    maxRequestBytes: 1024 * 1024,
    queryDepth: 10,
    // The real defaults, as for accountLockout: a test file that needs more logins or sign-ups per minute
    // from 127.0.0.1 than an app's clients would make says so in its own overrides.
    requestComplexity: DEFAULT_REQUEST_COMPLEXITY,
    rateLimit: DEFAULT_RATE_LIMIT,
    idempotencyOptions: undefined,
    trustProxy: false,
    databasePoolSize: 5,
    statementTimeoutMs: 10_000,
    vacuumIntervalMs: 0,
    logLevel: 'silent',
    sessionLength: 31_536_000,
    expireInactiveSessions: true,
    extendSessionOnUse: false,
    revokeSessionOnPasswordReset: true,
    enforcePrivateUsers: true,
    protectedFields: { _User: { '*': ['email'] } },
    allowGetLogin: false,
    verifyUserEmails: false,
    preventLoginWithUnverifiedEmail: false,
    emailAdapter: undefined,
    // The real defaults: lockout on, no password policy. Tests that need otherwise override them.
    accountLockout: DEFAULT_ACCOUNT_LOCKOUT,
    passwordPolicy: undefined,
    ...overrides,
  };
}

/** A fresh, empty PostgreSQL database per test server, dropped when the server stops. */
export async function freshPostgresDatabase(): Promise<{ uri: string; drop: () => Promise<void> }> {
  const base = process.env.PARSEC_TEST_DATABASE_URL as string;
  const name = `parsec_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    uri: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface TestServer {
  readonly parsec: Parsec;
  /** e.g. http://127.0.0.1:40123/parse */
  readonly url: string;
  readonly config: ParsecConfig;
  stop(): Promise<void>;
}

export async function startTestServer(engine: Engine, overrides: Partial<ParsecConfig> = {}, options: { mail?: EmailAdapter; authFetch?: AuthFetch } = {}): Promise<TestServer> {
  const database = engine === 'postgres' ? await freshPostgresDatabase() : undefined;
  const provisional = testConfig({ ...overrides, databaseURI: database?.uri ?? overrides.databaseURI ?? 'memory://' });
  // The server URL is only known after listening; it is used for Location headers and batch paths.
  let parsec: Parsec;
  try {
    parsec = await createParsec(provisional, { mail: options.mail, authFetch: options.authFetch });
  } catch (error) {
    await database?.drop();
    throw error;
  }
  await parsec.app.listen({ port: 0, host: '127.0.0.1' });
  const address = parsec.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const url = `http://127.0.0.1:${port}${provisional.mountPath}`;
  return {
    parsec,
    url,
    config: provisional,
    async stop() {
      await parsec.close();
      await database?.drop();
    },
  };
}
