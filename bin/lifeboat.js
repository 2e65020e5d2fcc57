#!/usr/bin/env node
// The `lifeboat` command: the CLI door, run from the TypeScript sources through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../electron/cli.ts');
