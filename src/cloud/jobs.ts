import { ErrorCode, masterKeyRequired, ParseError } from '../errors/parse-error.ts';
import { NO_CLIENT } from '../http/client-info.ts';
import type { Condition } from '../query/tree.ts';
import type { ClassPlugin } from '../rest/class-plugin.ts';
import { newObjectId } from '../rest/object-id.ts';
import type { Caller, Services } from '../rest/services.ts';
import type { SchemaStore } from '../schema/schema-store.ts';
import type { FieldType } from '../schema/types.ts';
import type { Driver } from '../storage/driver.ts';
import { decodeParams } from './objects.ts';
import { logSafely, toParseError } from './run-handler.ts';
import { activeScope } from './sdk.ts';

export const JOB_STATUS_CLASS = '_JobStatus';

const JOB_STATUS_FIELDS = new Map<string, FieldType>([
  ['jobName', { type: 'String' }],
  ['source', { type: 'String' }],
  ['status', { type: 'String' }],
  ['message', { type: 'String' }],
  ['params', { type: 'Object' }],
  ['finishedAt', { type: 'Date' }],
]);

export async function ensureJobStatusClass(driver: Driver, schemas: SchemaStore): Promise<void> {
  await schemas.ensureFields(JOB_STATUS_CLASS, JOB_STATUS_FIELDS, driver);
}

const NOTHING: Condition = { type: 'or', conditions: [] };

/** `_JobStatus` is readable with the master key only (`Parse.Cloud.getJobStatus`); only the server writes it. */
export function jobStatusPlugin(): ClassPlugin {
  return {
    className: JOB_STATUS_CLASS,
    operations: new Set(['find', 'get', 'count']),
    masterOnly: true,
    // Never reached by a non-master caller (masterOnly); kept so the row rule does not depend on that check.
    rowFilter: () => NOTHING,
  };
}

async function setStatus(services: Services, statusId: string, status: 'succeeded' | 'failed', message: string): Promise<void> {
  const now = new Date().toISOString();
  await services.driver.query(
    'UPDATE "_JobStatus" SET "status" = $1::text, "message" = $2::text, "finishedAt" = $3::timestamptz, "updatedAt" = $3::timestamptz WHERE "objectId" = $4::text',
    [status, message.slice(0, 10_000), now, statusId],
  );
}

function messageOf(result: unknown): string {
  if (result === undefined || result === null) return '';
  return typeof result === 'string' ? result : JSON.stringify(result) ?? '';
}

/**
 * `POST /jobs/:name`: the master key only (the read-only master key is refused: a job writes). The job runs
 * in the background; the answer is immediate and carries the `_JobStatus` id, which the job's outcome
 * (`succeeded` with its result, or `failed` with its error) is written to. A job's failure never reaches
 * the process: it is recorded and logged.
 */
export async function startJob(caller: Caller, name: string, params: Record<string, unknown>): Promise<string> {
  const { auth, services } = caller;
  if (auth.kind === 'readOnlyMaster') throw new ParseError(ErrorCode.OPERATION_FORBIDDEN, "read-only masterKey isn't allowed to run a job.");
  if (auth.kind !== 'master') throw masterKeyRequired();
  const { registry, sdk } = services.cloud;
  const job = registry.jobs.get(name);
  if (job === undefined || sdk === undefined) throw new ParseError(ErrorCode.SCRIPT_FAILED, 'Invalid job.');
  const statusId = newObjectId();
  const now = new Date().toISOString();
  await services.driver.query(
    'INSERT INTO "_JobStatus" ("objectId", "createdAt", "updatedAt", "_rperm", "_wperm", "jobName", "source", "status", "params") ' +
      "VALUES ($1::text, $2::timestamptz, $2::timestamptz, '{}'::text[], '{}'::text[], $3::text, 'api', 'running', $4::jsonb)",
    [statusId, now, name, JSON.stringify(params)],
  );
  const client = caller.client ?? NO_CLIENT;
  let progress = Promise.resolve();
  const request = {
    params: decodeParams(sdk, params),
    master: true,
    jobName: name,
    jobId: statusId,
    ip: client.ip,
    headers: { ...client.headers },
    log: services.log,
    message: (text: unknown) => {
      progress = progress.then(() =>
        services.driver.query('UPDATE "_JobStatus" SET "message" = $1::text, "updatedAt" = now() WHERE "objectId" = $2::text', [String(text).slice(0, 10_000), statusId]).then(() => undefined),
      );
    },
  };
  const run = async (): Promise<void> => {
    try {
      const result: unknown = await activeScope.run({ sdk, caller, origin: `job:${name}` }, () => Promise.resolve().then(() => job.handler(request)));
      await progress.catch(() => undefined);
      await setStatus(services, statusId, 'succeeded', messageOf(result));
    } catch (thrown) {
      const error = toParseError(thrown);
      logSafely(services.log, 'error', { err: thrown, job: name, jobStatusId: statusId }, 'cloud job failed');
      await progress.catch(() => undefined);
      await setStatus(services, statusId, 'failed', error.message);
    }
  };
  run().catch((error: unknown) => {
    logSafely(services.log, 'error', { err: error, job: name }, 'could not record the outcome of a job');
  });
  return statusId;
}
