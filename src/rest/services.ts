import type { AuthContext } from '../auth/context.ts';
import type { InvalidationBus } from '../cluster/invalidation.ts';
import type { ReadRouting } from '../cluster/read-routing.ts';
import type { CloudRuntime } from '../cloud/runtime.ts';
import type { ClientInfo } from '../http/client-info.ts';
import type { ParsecConfig } from '../config/types.ts';
import type { SchemaStore } from '../schema/schema-store.ts';
import type { AccessPlan } from '../security/access.ts';
import type { Driver } from '../storage/driver.ts';
import type { EmailAdapter } from '../users/email.ts';
import type { PrivilegeLedger } from '../security/ledger.ts';
import type { FilesAdapter } from '../files/adapter.ts';
import type { ChangeFeed } from '../livequery/feed.ts';
import type { PushService } from '../push/deliver.ts';
import type { RoleStore } from '../security/role-store.ts';
import type { SessionStore } from '../users/session-store.ts';
import type { UserCache } from '../users/user-cache.ts';
import type { ClassPlugins } from './class-plugin.ts';

/** The slice of a logger the pipeline uses (Fastify's pino logger satisfies it). */
export interface Logger {
  error(details: object, message: string): void;
  warn(details: object, message: string): void;
  info(details: object, message: string): void;
}

/** Long-lived collaborators shared by every request of one server. */
export interface Services {
  readonly config: ParsecConfig;
  readonly log: Logger;
  readonly driver: Driver;
  readonly schemas: SchemaStore;
  /** Server-managed classes (`_User`, `_Session`, …) by name. */
  readonly plugins: ClassPlugins;
  readonly sessions: SessionStore;
  /** Users' own records for `request.user`, forgotten on every write to the user. */
  readonly users: UserCache;
  /** Role expansion per user (cached, cleared by every role change). */
  readonly roles: RoleStore;
  /** Where account emails (password reset, verification) are sent. */
  readonly mail: EmailAdapter;
  /** Cloud code: registered functions, triggers and jobs, and the SDK they run with. */
  readonly cloud: CloudRuntime;
  /** Where privileged requests and escalations are recorded. */
  readonly ledger: PrivilegeLedger;
  /** How this node hears of other nodes' changes; `trusted` is false while it may be missing some. */
  readonly invalidation: InvalidationBus;
  /** Where uploaded files are stored (`filesAdapter`; the database by default). */
  readonly files: FilesAdapter;
  /** LiveQuery's view of writes (absent when `liveQuery` is off): committed changes of the classes it serves. */
  readonly liveQuery?: ChangeFeed;
  /** Where pushes are sent (`push.adapter`); absent when none is configured (`POST /push` answers 115). */
  readonly push?: PushService;
  /** The read replica (`readReplicaURI`), for client reads only (rest/read-source.ts); absent: every read uses `driver`. */
  readonly reads?: ReadRouting;
}

/** One caller's view of the services: every use case takes this, so none can run without a caller. */
export interface Caller {
  readonly auth: AuthContext;
  readonly access: AccessPlan;
  readonly services: Services;
  /** The request's client (ip, headers, installation, cloud context); absent for server-internal work. */
  readonly client?: ClientInfo;
}
