import { describe, expect, it } from 'vitest';
import { runProgram } from '../../electron/engine/run-program.js';

const run = (argv: string[], maxOutput?: number) => runProgram({ argv, env: process.env, timeoutMs: 10_000, signal: new AbortController().signal, maxOutput });

describe('runProgram', () => {
  it('says when it kept only part of the output, so a cut answer is never read as whole', async () => {
    const cut = await run(['head', '-c', '100', '/dev/zero'], 10);
    expect(cut).toMatchObject({ code: 0, truncated: true });
    expect(cut.stdout).toHaveLength(10);
    const whole = await run(['head', '-c', '10', '/dev/zero'], 10);
    expect(whole).toMatchObject({ code: 0, truncated: false });
    expect(whole.stdout).toHaveLength(10);
  });
});
