#!/usr/bin/env node
// `npm start`: the desktop app and the local web host are not built yet (see the open issues), so
// for now this says so and shows what the command line can do.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

process.stdout.write('Lifeboat: the desktop app is not part of this version yet; here is the command line (npx lifeboat …).\n\n');
const r = spawnSync(process.execPath, [fileURLToPath(new URL('./lifeboat.js', import.meta.url)), '--help'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
