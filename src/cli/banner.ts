/**
 * What `parsec start` prints once the server listens. The master key is printed only when Parsec generated
 * it (the file in .parsec/ is then the only other copy); a configured key is never echoed, since the user
 * already has it and terminal output often ends up in logs.
 */
import type { ParsecConfig } from '../config/types.ts';

export interface StartupInfo {
  readonly version: string;
  readonly url: string;
  readonly config: ParsecConfig;
  readonly generatedCredentials: boolean;
  readonly credentialsFile?: string;
}

/** The database as it may be shown: PostgreSQL URIs usually contain a password, so only host and name. */
export function describeDatabase(uri: string): string {
  if (/^postgres(ql)?:\/\//i.test(uri)) {
    try {
      const url = new URL(uri);
      return `PostgreSQL ${url.host}${url.pathname}`;
    } catch {
      return 'PostgreSQL';
    }
  }
  return uri.startsWith('memory://') ? 'embedded PGlite, in memory (data is lost on exit)' : `embedded PGlite in ${uri}`;
}

export function startupLines(info: StartupInfo): string[] {
  const { config, credentialsFile } = info;
  const appIdGenerated = credentialsFile !== undefined && !info.generatedCredentials;
  const lines = [
    `Parsec ${info.version} listening at ${info.url}`,
    `  app id:     ${config.appId}${appIdGenerated ? ` (generated, kept in ${credentialsFile})` : ''}`,
  ];
  if (info.generatedCredentials && credentialsFile !== undefined) {
    lines.push(`  master key: ${config.masterKey}`);
    lines.push(`              generated on first start and kept in ${credentialsFile} (keep it secret)`);
  } else {
    lines.push('  master key: from the configuration (not shown)');
  }
  lines.push(`  serverURL:  ${config.serverURL}`);
  lines.push(`  database:   ${describeDatabase(config.databaseURI)}`);
  if (config.host === '0.0.0.0' || config.host === '::') {
    lines.push(`  listening on all network interfaces (${config.host}); use --host 127.0.0.1 to keep the server on this machine`);
  }
  return lines;
}
