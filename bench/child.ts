import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isChildMessage, type ChildMessage, type ProcessStats, type ReplyMessage } from './child-protocol.ts';

const READY_TIMEOUT_MS = 120_000;
const COMMAND_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 15_000;

/** Every child still running, so the bench can kill them all whatever way it exits. */
const live = new Set<ChildProcess>();

/** Synchronous, for `process.on('exit')`: a last resort that leaves no server behind. */
export function killAllChildren(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** The parent's handle on one server under test running in its own process (own event loop). */
export class ServerChild {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: ReplyMessage) => void>();
  private exited = false;

  private constructor(
    readonly label: string,
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /**
   * Starts `script` (a bench/*.ts file) under node + tsx's loader with `argument` as JSON in argv[2] and
   * resolves once it listens. tsx is resolved here rather than by name so the child works from any cwd.
   */
  static start(label: string, script: string, argument: unknown): Promise<ServerChild> {
    const file = fileURLToPath(new URL(script, import.meta.url));
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), file, JSON.stringify(argument)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    live.add(child);
    return new Promise((resolve, reject) => {
      let handle: ServerChild | undefined;
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${label}: not ready after ${READY_TIMEOUT_MS} ms`));
      }, READY_TIMEOUT_MS);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        live.delete(child);
        clearTimeout(timer);
        if (handle === undefined) reject(new Error(`${label}: exited before it was ready (code ${code}, signal ${signal})`));
        else handle.onExit(code, signal);
      });
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      lines.on('line', (line) => {
        let message: ChildMessage;
        try {
          const parsed: unknown = JSON.parse(line);
          if (!isChildMessage(parsed)) throw new Error('not a bench message');
          message = parsed;
        } catch {
          process.stderr.write(`[${label} stdout] ${line}\n`);
          return;
        }
        if (message.type === 'ready') {
          clearTimeout(timer);
          handle = new ServerChild(label, child, message.port);
          resolve(handle);
        } else {
          handle?.pending.get(message.id)?.(message);
        }
      });
    });
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true;
    const failure: ReplyMessage = { type: 'reply', id: 0, ok: false, error: `${this.label} exited (code ${code}, signal ${signal})` };
    for (const settle of this.pending.values()) settle(failure);
    this.pending.clear();
  }

  command<T>(command: string, payload?: unknown): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.label} is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: no reply to ${command} after ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        this.pending.delete(id);
        if (reply.ok) resolve(reply.value as T);
        else reject(new Error(`${this.label}: ${command} failed: ${reply.error}`));
      });
      this.child.stdin?.write(`${JSON.stringify({ id, command, payload })}\n`);
    });
  }

  stats(): Promise<ProcessStats> {
    return this.command<ProcessStats>('stats');
  }

  /** Graceful stop (the server closes its database cleanly), falling back to SIGKILL. Returns final stats. */
  async stop(): Promise<ProcessStats | undefined> {
    if (this.exited) return undefined;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const kill = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      return await this.command<ProcessStats>('stop');
    } catch (error) {
      process.stderr.write(`[bench] ${String(error)}\n`);
      this.child.kill('SIGKILL');
      return undefined;
    } finally {
      await exited;
      clearTimeout(kill);
    }
  }
}
