import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { isPlainObject } from '../query/values.ts';
import type { ExistingObject } from '../rest/class-plugin.ts';
import type { Caller } from '../rest/services.ts';
import { idsOfCreate, installationsMatching, type StoredInstallation } from './installation-ids.ts';

/**
 * Parse's rule for registering a device (RestWrite `handleInstallation`): a create that names an
 * installationId already stored, or a device token held by one installation without an id, updates that
 * installation instead of adding a second one. Returns the installation to update and the body to update
 * it with, or undefined for a genuinely new installation. Decided on the request body, before any
 * trigger, as in Parse.
 */
export async function existingInstallationFor(caller: Caller, body: unknown): Promise<ExistingObject | undefined> {
  const ids = idsOfCreate(caller, body);
  if (ids.installationId === undefined && ids.deviceToken === undefined) {
    throw new ParseError(ErrorCode.MISSING_REQUIRED_FIELD_ERROR, 'at least one ID field (deviceToken, installationId) must be specified in this operation');
  }
  const { driver } = caller.services;
  const rows = await installationsMatching(driver, ids.installationId, ids.deviceToken);
  const idMatch = ids.installationId === undefined ? undefined : rows.find((row) => row.installationId === ids.installationId);
  const tokenMatches = ids.deviceToken === undefined ? [] : rows.filter((row) => row.deviceToken === ids.deviceToken);
  if (idMatch === undefined && ids.deviceType === undefined) {
    throw new ParseError(ErrorCode.MISSING_REQUIRED_FIELD_ERROR, 'deviceType must be specified in this operation');
  }
  const lone = tokenMatches.length === 1 ? tokenMatches[0] : undefined;
  if (idMatch === undefined) {
    if (lone !== undefined && (lone.installationId === null || ids.installationId === undefined)) return target(lone, body, ids.installationId);
    if (tokenMatches.length > 0 && ids.installationId === undefined) {
      throw new ParseError(ErrorCode.INVALID_INSTALLATION_ID, 'Must specify installationId when deviceToken matches multiple Installation objects');
    }
    // A new installation; it takes the device token from the others in its transaction (afterCreate).
    return undefined;
  }
  if (lone !== undefined && lone.installationId === null && lone.objectId !== idMatch.objectId) {
    // The device was registered twice, once by token and once by id: the token's installation takes the
    // id and the id-only one goes, as Parse merges them.
    await driver.query('DELETE FROM "_Installation" WHERE "objectId" = $1::text', [idMatch.objectId]);
    return target(lone, body, ids.installationId);
  }
  return target(idMatch, body, ids.installationId);
}

/** The update that re-registering amounts to: the body without what only a create may say. */
function target(stored: StoredInstallation, body: unknown, installationId: string | undefined): ExistingObject {
  const update: Record<string, unknown> = isPlainObject(body) ? { ...body } : {};
  delete update.objectId;
  delete update.createdAt;
  // A device keeps the type it registered with (an update changing it is refused; re-registering keeps it).
  if (stored.deviceType !== null) delete update.deviceType;
  if (stored.installationId === null && installationId !== undefined) update.installationId = installationId;
  if (stored.installationId !== null) delete update.installationId;
  const createdAt = stored.createdAt instanceof Date ? stored.createdAt.toISOString() : new Date(stored.createdAt).toISOString();
  return { objectId: stored.objectId, createdAt, body: update };
}
