/**
 * The wire between the bench (parent) and a server under test (child). One JSON object per line:
 * the parent writes `{id, command, payload}` to the child's stdin; the child writes `{type: 'ready', port}`
 * once listening, then `{type: 'reply', id, ok, value | error}` per command on stdout. stdout carries
 * nothing else, so child logging goes to stderr.
 */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly port: number;
}

export interface ReplyMessage {
  readonly type: 'reply';
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: string;
}

export type ChildMessage = ReadyMessage | ReplyMessage;

export interface CommandMessage {
  readonly id: number;
  readonly command: string;
  readonly payload?: unknown;
}

/** Memory of the child process. `maxRssBytes` is the kernel's lifetime peak, so no sampling can miss a spike. */
export interface ProcessStats {
  readonly rssBytes: number;
  readonly maxRssBytes: number;
  /** CPU time used so far (user + system, all threads), in microseconds. */
  readonly cpuMicros: number;
}

export function processStats(): ProcessStats {
  const cpu = process.cpuUsage();
  // resourceUsage().maxRSS is in kilobytes.
  return { rssBytes: process.memoryUsage.rss(), maxRssBytes: process.resourceUsage().maxRSS * 1024, cpuMicros: cpu.user + cpu.system };
}

export function isChildMessage(value: unknown): value is ChildMessage {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'ready' || type === 'reply';
}
