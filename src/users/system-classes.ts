import type { SchemaStore } from '../schema/schema-store.ts';
import type { FieldType } from '../schema/types.ts';
import type { Driver } from '../storage/driver.ts';
import { ONE_TIME_TOKEN_DDL } from './one-time-tokens.ts';
import { INSTALLATION_CLASS, INSTALLATION_FIELDS } from '../installations/installation-class.ts';

export const USER_CLASS = '_User';
export const SESSION_CLASS = '_Session';

const USER_FIELDS = new Map<string, FieldType>([
  ['username', { type: 'String' }],
  ['email', { type: 'String' }],
  ['emailVerified', { type: 'Boolean' }],
  ['authData', { type: 'Object' }],
]);

const ROLE_FIELDS = new Map<string, FieldType>([
  ['name', { type: 'String' }],
  ['users', { type: 'Relation', targetClass: USER_CLASS }],
  ['roles', { type: 'Relation', targetClass: '_Role' }],
]);

const SESSION_FIELDS = new Map<string, FieldType>([
  ['user', { type: 'Pointer', targetClass: USER_CLASS }],
  ['expiresAt', { type: 'Date' }],
  ['createdWith', { type: 'Object' }],
  ['installationId', { type: 'String' }],
  ['restricted', { type: 'Boolean' }],
]);

/** The fields each server class defines; `/schemas` may add fields to these classes but never remove these. */
export const SYSTEM_CLASS_FIELDS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  [USER_CLASS, new Set(USER_FIELDS.keys())],
  [SESSION_CLASS, new Set(SESSION_FIELDS.keys())],
  ['_Role', new Set(ROLE_FIELDS.keys())],
  [INSTALLATION_CLASS, new Set(INSTALLATION_FIELDS.keys())],
]);

/**
 * Server-owned columns. They are not schema fields, so no read ever selects them and no client can name
 * them (field names starting with `_` are refused at the edge).
 */
const INTERNAL_DDL = [
  'ALTER TABLE "_User" ADD COLUMN IF NOT EXISTS "_hashed_password" text',
  'ALTER TABLE "_User" ADD COLUMN IF NOT EXISTS "_password_changed_at" timestamptz',
  // Password history and account lockout, under Parse's column names (a migrated Parse database keeps its state).
  'ALTER TABLE "_User" ADD COLUMN IF NOT EXISTS "_password_history" jsonb',
  'ALTER TABLE "_User" ADD COLUMN IF NOT EXISTS "_failed_login_count" integer',
  'ALTER TABLE "_User" ADD COLUMN IF NOT EXISTS "_account_lockout_expires_at" timestamptz',
  'CREATE UNIQUE INDEX IF NOT EXISTS "_User_username_key" ON "_User" ("username")',
  'CREATE UNIQUE INDEX IF NOT EXISTS "_User_email_key" ON "_User" (lower("email"))',
  'ALTER TABLE "_Session" ADD COLUMN IF NOT EXISTS "_session_token_hash" text',
  'CREATE UNIQUE INDEX IF NOT EXISTS "_Session_token_key" ON "_Session" ("_session_token_hash")',
  'CREATE INDEX IF NOT EXISTS "_Session_user" ON "_Session" ("user")',
  'CREATE UNIQUE INDEX IF NOT EXISTS "_Role_name_key" ON "_Role" ("name")',
  // Role expansion walks the join tables from the member side.
  'CREATE INDEX IF NOT EXISTS "_Join:users:_Role_related" ON "_Join:users:_Role" ("relatedId")',
  'CREATE INDEX IF NOT EXISTS "_Join:roles:_Role_related" ON "_Join:roles:_Role" ("relatedId")',
];

/** Creates (or completes) the `_User`, `_Session` and `_Role` tables at start; idempotent. */
export async function ensureUserClasses(driver: Driver, schemas: SchemaStore): Promise<void> {
  await schemas.ensureFields(USER_CLASS, USER_FIELDS, driver);
  await schemas.ensureFields(SESSION_CLASS, SESSION_FIELDS, driver);
  await schemas.ensureFields('_Role', ROLE_FIELDS, driver);
  for (const statement of [...INTERNAL_DDL, ...ONE_TIME_TOKEN_DDL]) await driver.query(statement);
}
