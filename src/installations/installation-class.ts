import type { SchemaStore } from '../schema/schema-store.ts';
import type { FieldType } from '../schema/types.ts';
import { sqlState, type Driver } from '../storage/driver.ts';

export const INSTALLATION_CLASS = '_Installation';

/** Parse's `_Installation` fields (SchemaController defaultColumns), under Parse's names and types. */
export const INSTALLATION_FIELDS: ReadonlyMap<string, FieldType> = new Map<string, FieldType>([
  ['installationId', { type: 'String' }],
  ['deviceToken', { type: 'String' }],
  ['channels', { type: 'Array' }],
  ['deviceType', { type: 'String' }],
  ['pushType', { type: 'String' }],
  ['GCMSenderId', { type: 'String' }],
  ['timeZone', { type: 'String' }],
  ['localeIdentifier', { type: 'String' }],
  ['badge', { type: 'Number' }],
  ['appVersion', { type: 'String' }],
  ['appName', { type: 'String' }],
  ['appIdentifier', { type: 'String' }],
  ['parseVersion', { type: 'String' }],
]);

/** The constraint name the plugin maps to a Parse error when two creates race for one installation id. */
export const INSTALLATION_ID_INDEX = '_Installation_installationId_key';

/**
 * Creates (or completes) `_Installation` at start; idempotent. Installation ids are unique, so two concurrent
 * first saves of one device cannot leave two rows. A database migrated from Parse may already hold
 * duplicates (Parse has no such index): the start then keeps a plain index rather than refusing to run.
 */
export async function ensureInstallationClass(driver: Driver, schemas: SchemaStore): Promise<void> {
  await schemas.ensureFields(INSTALLATION_CLASS, INSTALLATION_FIELDS, driver);
  try {
    await driver.query(`CREATE UNIQUE INDEX IF NOT EXISTS "${INSTALLATION_ID_INDEX}" ON "_Installation" ("installationId")`);
  } catch (error) {
    if (sqlState(error) !== '23505') throw error;
    await driver.query('CREATE INDEX IF NOT EXISTS "_Installation_installationId" ON "_Installation" ("installationId")');
  }
  await driver.query('CREATE INDEX IF NOT EXISTS "_Installation_deviceToken" ON "_Installation" ("deviceToken")');
}
