import { ErrorCode, ParseError } from '../errors/parse-error.ts';
import { NO_CLIENT } from '../http/client-info.ts';
import type { Caller } from '../rest/services.ts';
import { decodeParams, encodeResult, userObject } from './objects.ts';
import { enforceRateLimit } from './rate-limit.ts';
import { logSafely, runInScope, toParseError } from './run-handler.ts';
import type { CloudRuntime } from './runtime.ts';
import type { CloudFunction } from './registry.ts';
import { runValidator, type ValidationSubject } from './validator.ts';

export interface FunctionCall {
  readonly name: string;
  readonly params: Record<string, unknown>;
  /** Made by cloud code through the in-process SDK (may reach `internal` functions). */
  readonly fromCloud: boolean;
}

function invalidFunction(name: string): ParseError {
  return new ParseError(ErrorCode.SCRIPT_FAILED, `Invalid function: "${name}"`);
}

interface Invocation {
  readonly fn: CloudFunction;
  readonly request: Record<string, unknown>;
  readonly subject: ValidationSubject;
}

/**
 * The validator, then the handler unless `skipWithMasterKey` applies: synchronous as long as both are, so
 * that runInScope can answer without a timer or a promise race (see there).
 */
function validateAndRun({ fn, request, subject }: Invocation): unknown {
  const outcome = runValidator(fn.validator, subject, request);
  if (outcome instanceof Promise) return outcome.then((checked) => (checked.skipHandler ? undefined : fn.handler(request)));
  return outcome.skipHandler ? undefined : fn.handler(request);
}

function isMasterAuth(caller: Caller): boolean {
  return caller.auth.kind === 'master' || caller.auth.kind === 'readOnlyMaster';
}

/**
 * `POST /functions/:name` and `Parse.Cloud.run`: only a name registered with `Parse.Cloud.define` runs
 * (looked up in a Map, so no inherited property is ever a function); an `internal` function only for cloud
 * code and the master key; then the validator, then the handler in the caller's scope.
 */
export async function runFunction(runtime: CloudRuntime, caller: Caller, call: FunctionCall): Promise<{ result: unknown }> {
  const fn = runtime.registry.functions.get(call.name);
  if (fn === undefined || runtime.sdk === undefined) throw invalidFunction(call.name);
  const { sdk } = runtime;
  const validator = fn.validator;
  if (typeof validator === 'object' && validator.internal === true && !call.fromCloud && !isMasterAuth(caller)) throw invalidFunction(call.name);
  // Counted before anything else runs, so a refused call costs the server as little as possible.
  if (typeof validator === 'object' && validator.rateLimit !== undefined) {
    await enforceRateLimit(caller, runtime.rateLimits, `function:${call.name}`, validator.rateLimit, call.fromCloud);
  }
  const client = caller.client ?? NO_CLIENT;
  const params = decodeParams(sdk, call.params) as Record<string, unknown>;
  const user = userObject(sdk, caller);
  const request: Record<string, unknown> = {
    params,
    master: isMasterAuth(caller),
    user: user instanceof Promise ? await user : user,
    installationId: client.installationId,
    ip: client.ip,
    headers: { ...client.headers },
    functionName: call.name,
    context: { ...client.context },
    log: caller.services.log,
  };
  const { config, log } = caller.services;
  try {
    const roles = caller.auth.kind === 'user' ? caller.auth.roles : [];
    const subject: ValidationSubject = { params, user: request.user as ValidationSubject['user'], master: request.master as boolean, roles };
    const result = await runInScope(sdk, caller, `function:${call.name}`, config.cloudTimeoutMs, validateAndRun, { fn, request, subject });
    return { result: encodeResult(sdk, result) };
  } catch (thrown) {
    const error = toParseError(thrown);
    // A Parse.Error is the function's answer; anything else is a bug in the function, logged with its stack.
    const deliberate = typeof thrown === 'string' || (typeof thrown === 'object' && thrown !== null && typeof (thrown as { code?: unknown }).code === 'number');
    if (deliberate) logSafely(log, 'info', { functionName: call.name, code: error.code }, `cloud function refused: ${error.message}`);
    else logSafely(log, 'error', { functionName: call.name, err: thrown }, 'cloud function failed');
    throw error;
  }
}
