import type { JsonRecord } from '../rest/encode.ts';
import type { ParseSdk } from './sdk.ts';

/** The slice of the SDK's per-object state (`ObjectStateController`) a user is built with. */
interface ObjectState {
  serverData: Record<string, unknown>;
  objectCache: Record<string, string>;
  existed: boolean;
}

interface StateController {
  initializeState(object: object): ObjectState;
  getState(object: object): ObjectState | undefined;
}

interface SdkUser {
  id: string | undefined;
  _finishFetch(serverData: Record<string, unknown>): void;
  _toFullJSON(seen: unknown[]): unknown;
  dirty(): boolean;
}

/** How one attribute of the template is given to a new user: shared, rebuilt, or decoded by the SDK itself. */
type Copy = { readonly kind: 'shared'; readonly value: unknown } | { readonly kind: 'date'; readonly time: number } | { readonly kind: 'acl' } | { readonly kind: 'decode' };

/**
 * What `Parse.Object.fromJSON` makes of one cached user record, computed once per record: each attribute's
 * decoded value and the SDK's dirty-check cache (`objectCache`, the JSON text of every object attribute).
 * There is none (`null` in `templates`) when a user built from it would not be the same as fromJSON's, or
 * would share its state with another (an SDK whose internals differ): then every call uses fromJSON.
 */
interface Template {
  readonly sdk: ParseSdk;
  readonly objectId: string;
  readonly attributes: readonly (readonly [string, Copy])[];
  readonly objectCache: Readonly<Record<string, string>>;
}

/** Per cached record (the user cache hands out one frozen object per entry); dropped with the entry. */
const templates = new WeakMap<object, Template | null>();

const fromJson = (sdk: ParseSdk, json: unknown): SdkUser => (sdk.Object as { fromJSON(json: unknown): SdkUser }).fromJSON(json);

function stateController(sdk: ParseSdk): StateController | undefined {
  const controller = (sdk.CoreManager as { getObjectStateController?(): Partial<StateController> }).getObjectStateController?.();
  return typeof controller?.initializeState === 'function' && typeof controller.getState === 'function' ? (controller as StateController) : undefined;
}

function copyOf(sdk: ParseSdk, key: string, value: unknown): Copy {
  if (typeof value !== 'object' || value === null) return { kind: 'shared', value };
  if (value instanceof Date) return { kind: 'date', time: value.getTime() };
  if (key === 'ACL' && value instanceof (sdk.ACL as new () => object)) return { kind: 'acl' };
  // Anything else (a pointer, a relation, a nested object): the SDK decodes it again for each user.
  return { kind: 'decode' };
}

/**
 * A user with the template's state. Strings, numbers and booleans are shared (immutable); every Date, the
 * ACL and every other object is built anew, so a handler changing its user (or mutating a date, the ACL or
 * a nested object in place) changes neither the template nor another call's user.
 */
function build(sdk: ParseSdk, controller: StateController, template: Template, json: JsonRecord, sessionToken: string): SdkUser {
  const user = new (sdk.User as new () => SdkUser)();
  user.id = template.objectId;
  const state = controller.initializeState(user);
  Object.assign(state.objectCache, template.objectCache);
  for (const [key, copy] of template.attributes) {
    if (copy.kind === 'shared') state.serverData[key] = copy.value;
    else if (copy.kind === 'date') state.serverData[key] = new Date(copy.time);
    else if (copy.kind === 'acl') state.serverData[key] = new (sdk.ACL as new (json: unknown) => object)(json[key]);
    else user._finishFetch({ [key]: json[key] });
  }
  // Last, as `fromJSON({...json, sessionToken})` puts it.
  state.serverData.sessionToken = sessionToken;
  state.existed = true;
  return user;
}

function templateOf(sdk: ParseSdk, controller: StateController, json: JsonRecord): Template | undefined {
  const proto = fromJson(sdk, { ...json, className: '_User' });
  const state = controller.getState(proto);
  if (state === undefined || typeof proto.id !== 'string') return undefined;
  const template: Template = {
    sdk,
    objectId: proto.id,
    attributes: Object.entries(state.serverData).map(([key, value]) => [key, copyOf(sdk, key, value)] as const),
    objectCache: { ...state.objectCache },
  };
  // The check that makes relying on the SDK's internals safe: the same user as fromJSON's, or fromJSON.
  const token = 'r:template-check';
  const expected = fromJson(sdk, { ...json, className: '_User', sessionToken: token });
  const built = build(sdk, controller, template, json, token);
  const builtState = controller.getState(built);
  const expectedState = controller.getState(expected);
  const same =
    JSON.stringify(built._toFullJSON([])) === JSON.stringify(expected._toFullJSON([])) &&
    !built.dirty() &&
    JSON.stringify(builtState) === JSON.stringify(expectedState) &&
    // Each object has state of its own (Parsec disables the SDK's single-instance mode), never the template's.
    builtState !== state &&
    builtState !== expectedState;
  return same ? template : undefined;
}

/**
 * `request.user`: the caller's own user record (`json`, as the user cache holds it) as a `Parse.User` of this
 * server's SDK with its session token, equal to `Parse.Object.fromJSON({...json, className: '_User',
 * sessionToken})`. fromJSON costs more than the rest of a `requireUser` call (it decodes every attribute,
 * parses the dates and encodes every object attribute again for the dirty check), so its work is done once
 * per cached record and each call gets a fresh user with a copy of the result.
 */
export function requestUser(sdk: ParseSdk, json: Readonly<JsonRecord>, sessionToken: string): object {
  const controller = stateController(sdk);
  let template = templates.get(json);
  if (template === undefined && controller !== undefined) {
    template = templateOf(sdk, controller, json) ?? null;
    templates.set(json, template);
  }
  if (controller === undefined || template === undefined || template === null || template.sdk !== sdk) {
    return fromJson(sdk, { ...json, className: '_User', sessionToken });
  }
  return build(sdk, controller, template, json, sessionToken);
}
