import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { isPlainObject } from '../query/values.ts';
import type { Caller } from '../rest/services.ts';
import type { SqlExecutor } from '../storage/driver.ts';

/**
 * The identifying fields of an installation and Parse's rules for them (RestWrite `handleInstallation`):
 * `installationId` is a client-generated UUID, stored lower-case; `deviceToken` is the push token, and a
 * 64-character one (an APNs token in hex) is lower-cased too. Both must be strings: anything else (a
 * number, an operator object such as `{"$ne": null}`) is refused before it reaches a query.
 */
export interface InstallationIds {
  readonly installationId: string | undefined;
  readonly deviceToken: string | undefined;
  readonly deviceType: string | undefined;
  readonly appIdentifier: string | undefined;
}

/** Parse's push adapters' device types and the SDKs' `DEVICE_TYPES`; an unknown type could never be pushed to. */
export const DEVICE_TYPES: ReadonlySet<string> = new Set([
  'ios', 'osx', 'macos', 'tvos', 'watchos', 'visionos', 'android', 'fcm', 'web', 'win', 'winrt', 'winphone', 'dotnet', 'embedded', 'other',
]);

export function normalizeInstallationId(value: string): string {
  return value.toLowerCase();
}

export function normalizeDeviceToken(value: string): string {
  return value.length === 64 ? value.toLowerCase() : value;
}

/** A present value must be a string (111, the code a wrong type gets anywhere else); `what` names the field. */
export function stringOrAbsent(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ParseError(ErrorCode.INCORRECT_TYPE, `${what} must be a string.`);
  return value;
}

export function assertDeviceType(deviceType: string): void {
  if (!DEVICE_TYPES.has(deviceType)) {
    throw new ParseError(ErrorCode.INVALID_DEVICE_TYPE, `deviceType must be one of ${[...DEVICE_TYPES].join(', ')}.`);
  }
}

/**
 * The ids a create body names. Without `installationId` in the body, a client's `X-Parse-Installation-Id`
 * (or the SDK's `_InstallationId`) stands for it, as in Parse; the master key speaks for no device.
 */
export function idsOfCreate(caller: Caller, body: unknown): InstallationIds {
  const record = isPlainObject(body) ? body : {};
  const own = (key: string): unknown => (Object.hasOwn(record, key) ? record[key] : undefined);
  const master = caller.auth.kind === 'master' || caller.auth.kind === 'maintenance';
  const fromBody = stringOrAbsent(own('installationId'), 'installationId');
  const fromClient = master ? undefined : caller.client?.installationId;
  const installationId = fromBody ?? (fromClient === '' ? undefined : fromClient);
  const deviceToken = stringOrAbsent(own('deviceToken'), 'deviceToken');
  const deviceType = stringOrAbsent(own('deviceType'), 'deviceType');
  return {
    installationId: installationId === undefined || installationId === '' ? undefined : normalizeInstallationId(installationId),
    deviceToken: deviceToken === undefined || deviceToken === '' ? undefined : normalizeDeviceToken(deviceToken),
    deviceType: deviceType === '' ? undefined : deviceType,
    appIdentifier: stringOrAbsent(own('appIdentifier'), 'appIdentifier'),
  };
}

export interface StoredInstallation {
  readonly objectId: string;
  readonly createdAt: Date | string;
  readonly installationId: string | null;
  readonly deviceToken: string | null;
  readonly deviceType: string | null;
}

/** Every installation holding either id, in one statement (the server's read: no ACL, as Parse's master lookup). */
export async function installationsMatching(db: SqlExecutor, installationId: string | undefined, deviceToken: string | undefined): Promise<StoredInstallation[]> {
  const { rows } = await db.query<StoredInstallation>(
    'SELECT "objectId", "createdAt", "installationId", "deviceToken", "deviceType" FROM "_Installation" ' +
      'WHERE "installationId" = $1::text OR "deviceToken" = $2::text LIMIT 100',
    [installationId ?? null, deviceToken ?? null],
  );
  return rows;
}

/**
 * A device token belongs to one device: when an installation takes it, the other installations holding it
 * (other installation ids, the same app if it names one) are deleted, as Parse does. Runs in the write's
 * transaction, after the write.
 */
export async function releaseDeviceToken(db: SqlExecutor, objectId: string, installationId: string, deviceToken: string, appIdentifier: string | undefined): Promise<void> {
  await db.query(
    'DELETE FROM "_Installation" WHERE "deviceToken" = $1::text AND "objectId" <> $2::text AND "installationId" IS DISTINCT FROM $3::text ' +
      'AND ($4::text IS NULL OR "appIdentifier" = $4::text)',
    [deviceToken, objectId, installationId, appIdentifier ?? null],
  );
}
