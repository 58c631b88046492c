#!/usr/bin/env node
// Launcher: registers tsx's loader in this process and runs the TypeScript CLI, so `npx parsec`
// needs no build step and signals (SIGINT/SIGTERM) reach the server directly.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
