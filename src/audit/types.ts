/** The shape of an audit report: what `parsec audit` prints and `GET /security` answers. */

export const SEVERITIES = ['high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Ranks severities so `--fail-on medium` also fails on high. */
export const severityRank = (severity: Severity): number => SEVERITIES.length - SEVERITIES.indexOf(severity);

export interface Finding {
  /** Stable across versions (e.g. `PSC101`); baselines and SARIF rules key on it. */
  readonly id: string;
  readonly severity: Severity;
  /** One line: what is wrong. */
  readonly title: string;
  /** What it applies to, e.g. `function deleteUser` or `class Note` or `option masterKeyIps`. */
  readonly subject: string;
  /** A file and line, when the finding is about cloud code. */
  readonly location?: string;
  readonly why: string;
  readonly fix: string;
}

/** Who may call a cloud function, from the widest audience to the narrowest. */
export type Audience = 'anyone' | 'custom' | 'users' | 'roles' | 'master' | 'internal';

/** Whether a handler's code (or code it calls in its own file) uses `useMasterKey`. */
export type Escalation = 'yes' | 'no' | 'unknown';

export interface SourceFacts {
  readonly escalation: Escalation;
  /** Where and how, e.g. `useMasterKey: true at line 12` or `calls sendMail (imported)`. */
  readonly escalationNotes: readonly string[];
  /** `request.params` names the code reads; `complete: false` when it reads params in a way the audit cannot follow. */
  readonly paramsRead: { readonly names: readonly string[]; readonly complete: boolean };
}

export interface ParamSurface {
  readonly name: string;
  /** `String`, `Number`, … or `any` when only the name is declared. */
  readonly type: string;
  readonly required: boolean;
}

export interface FunctionSurface {
  readonly name: string;
  readonly audience: Audience;
  /** The audience in words: "anyone with the app keys", "logged-in users with role admin", … */
  readonly callableBy: string;
  /** undefined: the function checks its caller itself (validator function), so params are not declared. */
  readonly params: readonly ParamSurface[] | undefined;
  readonly rateLimit: string | undefined;
  readonly escalation: Escalation;
  readonly escalationNotes: readonly string[];
  readonly location: string | undefined;
}

export interface TriggerSurface {
  readonly type: string;
  readonly className: string;
  readonly escalation: Escalation;
  readonly location: string | undefined;
}

export interface JobSurface {
  readonly name: string;
  readonly escalation: Escalation;
  readonly location: string | undefined;
}

export interface ClassSurface {
  readonly className: string;
  /** Per operation (find, get, count, create, update, delete, addField): who the class-level permissions let in. */
  readonly operations: Readonly<Record<string, string>>;
  /** True for operations open to anyone with the app keys (ACLs may still restrict rows). */
  readonly publicOperations: readonly string[];
  readonly protectedFields: Readonly<Record<string, readonly string[]>>;
  /** Sentences: "anyone can create Note; only role:staff can delete". */
  readonly summary: string;
}

/** A class LiveQuery pushes changes of (`liveQuery.classNames`). */
export interface LiveQueryClassSurface {
  readonly className: string;
  /** Who may subscribe: the class's find permission in words; each event still carries only what that subscriber may read. */
  readonly subscribableBy: string;
}

export interface Surface {
  readonly functions: readonly FunctionSurface[];
  readonly triggers: readonly TriggerSurface[];
  readonly jobs: readonly JobSurface[];
  /** undefined when the database was not read (`--no-database`). */
  readonly classes: readonly ClassSurface[] | undefined;
  /** The classes clients may subscribe to; undefined when LiveQuery is off (absent in reports made before it was reported). */
  readonly liveQuery?: readonly LiveQueryClassSurface[] | undefined;
}

export interface AuditReport {
  readonly version: 1;
  readonly generatedAt: string;
  readonly surface: Surface;
  readonly findings: readonly Finding[];
}
