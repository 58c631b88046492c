/** Human progress goes to stderr; stdout carries only the final JSON, so `npm run bench > out.json` works. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
