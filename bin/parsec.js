#!/usr/bin/env node
// Launcher: registers tsx's loaders in this process and runs the TypeScript CLI, so `npx parsec`
// needs no build step and signals (SIGINT/SIGTERM) reach the server directly. Both hooks: cloud code
// written in TypeScript is loaded with require() as well as import().
import { register as registerCommonJs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

registerCommonJs();
register();
await import('../src/cli/main.ts');
