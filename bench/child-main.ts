import { createInterface } from 'node:readline';
import { processStats, type ChildMessage, type CommandMessage } from './child-protocol.ts';

/** What a child's `start` yields: a listening server and the commands it understands besides the built-ins. */
export interface ServedChild {
  readonly port: number;
  close(): Promise<void>;
  readonly commands?: Readonly<Record<string, (payload: unknown) => unknown>>;
}

function send(message: ChildMessage, then?: () => void): void {
  process.stdout.write(`${JSON.stringify(message)}\n`, then);
}

/**
 * Runs a server under test as a child of the bench. Built-in commands: `stats` (memory) and `stop` (close,
 * reply with final stats, exit). The child also stops when its stdin closes or on SIGTERM/SIGINT, so it
 * never outlives the bench, even if the bench is killed without cleaning up.
 */
export async function runChild(start: () => Promise<ServedChild>): Promise<void> {
  let served: ServedChild;
  try {
    served = await start();
  } catch (error) {
    console.error('[bench child] failed to start:', error);
    process.exit(1);
  }
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= served.close().catch((error: unknown) => {
      console.error('[bench child] close failed:', error);
    });
    return stopping;
  };
  const exitAfterStop = (code: number) => () => {
    void stop().then(() => process.exit(code));
  };
  process.once('SIGTERM', exitAfterStop(0));
  process.once('SIGINT', exitAfterStop(0));

  const handle = async (message: CommandMessage): Promise<unknown> => {
    if (message.command === 'stats') return processStats();
    if (message.command === 'stop') {
      await stop();
      return processStats();
    }
    const command = served.commands?.[message.command];
    if (command === undefined) throw new Error(`unknown command ${message.command}`);
    return command(message.payload);
  };

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const message = JSON.parse(line) as CommandMessage;
    handle(message).then(
      (value) => {
        // After `stop`, exit only once the reply is flushed, so the parent always gets the final stats.
        send({ type: 'reply', id: message.id, ok: true, value }, message.command === 'stop' ? () => process.exit(0) : undefined);
      },
      (error: unknown) => send({ type: 'reply', id: message.id, ok: false, error: String(error) }),
    );
  });
  lines.on('close', exitAfterStop(0));
  send({ type: 'ready', port: served.port });
}
