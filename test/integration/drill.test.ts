import { appendFileSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DrillReport } from '../../shared/drill.js';
import { makeAppDb, makeAssets } from '../support/data.js';
import { demoEnvironment, useEngines } from '../support/engine.js';
import { jsonOf, runCli, sha256sum, useTempDirs } from '../support/tools.js';

const tempDir = useTempDirs();
const engineAt = useEngines();

/** The checks that failed, as `target: name`, so a test can say which artifact was named. */
function failures(report: DrillReport): string[] {
  return report.checks.filter((c) => c.status === 'FAIL').map((c) => `${c.target}: ${c.name}`);
}

function flipByte(file: string, at: 'start' | 'middle' | 'last'): void {
  const bytes = readFileSync(file);
  const i = at === 'start' ? 0 : at === 'middle' ? Math.floor(bytes.length / 2) : bytes.length - 1;
  bytes[i] = bytes[i]! ^ 0x01;
  writeFileSync(file, bytes);
}

describe('drill', () => {
  let root: string;
  let setDir: string;
  let home: string;
  beforeEach(async () => {
    root = tempDir();
    mkdirSync(path.join(root, 'live', 'assets'), { recursive: true });
    makeAppDb(path.join(root, 'live', 'shop.db'), { rows: 300, wal: true });
    makeAssets(path.join(root, 'live', 'assets'));
    home = path.join(root, 'home');
    const engine = engineAt(home);
    await engine.call('env.save', { environment: demoEnvironment(root) });
    setDir = (await engine.call('backup.run', { env: 'prod' })).path;
  });

  it('passes a good set, and sha256sum agrees with the manifest for every artifact', async () => {
    const report = await engineAt(home).call('drill.run', { env: 'prod', set: path.basename(setDir) });
    expect(failures(report)).toEqual([]);
    expect(report.passed).toBe(true);
    const names = report.checks.map((c) => `${c.target}: ${c.name}`);
    expect(names).toContain('db.sqlite.gz: PRAGMA integrity_check');
    expect(names).toContain('db.sqlite.gz: row counts as recorded');
    expect(names).toContain('assets.tar.gz: size and SHA-256 as recorded');
    const manifest = JSON.parse(readFileSync(path.join(setDir, 'manifest.json'), 'utf8'));
    for (const a of manifest.artifacts) expect(sha256sum(path.join(setDir, a.file))).toBe(a.sha256);
    expect(statSync(setDir).mode & 0o777).toBe(0o700);
    for (const a of manifest.artifacts) expect(statSync(path.join(setDir, a.file)).mode & 0o777).toBe(0o600);
  });

  for (const file of ['db.sqlite.gz', 'assets.tar.gz', 'assets.files.jsonl']) {
    for (const at of ['start', 'middle', 'last'] as const) {
      it(`fails naming ${file} when its ${at} byte is flipped`, async () => {
        flipByte(path.join(setDir, file), at);
        const report = await engineAt(home).call('drill.run', { env: 'prod', set: path.basename(setDir) });
        expect(report.passed).toBe(false);
        expect(failures(report)).toContain(`${file}: size and SHA-256 as recorded`);
      });
    }
  }

  it('fails naming a truncated artifact', async () => {
    const file = path.join(setDir, 'db.sqlite.gz');
    truncateSync(file, Math.floor(statSync(file).size / 2));
    const report = await engineAt(home).call('drill.run', { env: 'prod' });
    expect(failures(report)).toEqual(['db.sqlite.gz: size and SHA-256 as recorded']);
    expect(report.checks.find((c) => c.status === 'FAIL')!.reason).toMatch(/truncated/);
  });

  it('fails naming a missing artifact', async () => {
    rmSync(path.join(setDir, 'assets.tar.gz'));
    const report = await engineAt(home).call('drill.run', { env: 'prod' });
    expect(failures(report)).toContain('set: every recorded artifact present');
    expect(report.checks.find((c) => c.name === 'every recorded artifact present')!.reason).toContain('assets.tar.gz');
  });

  it('fails naming an extra file', async () => {
    writeFileSync(path.join(setDir, 'intruder.bin'), 'not from Lifeboat');
    const report = await engineAt(home).call('drill.run', { env: 'prod' });
    expect(failures(report)).toEqual(['set: no unexpected files']);
    expect(report.checks.find((c) => c.status === 'FAIL')!.reason).toContain('intruder.bin');
  });

  it('fails on an edited manifest', async () => {
    const file = path.join(setDir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    manifest.artifacts[0].details.tables[0].rows += 1;
    writeFileSync(file, JSON.stringify(manifest, null, 2));
    const report = await engineAt(home).call('drill.run', { env: 'prod' });
    expect(failures(report)).toContain('manifest.json: manifest checksum');
  });

  it('refuses a manifest from a newer format with "made by a newer Lifeboat", through the CLI with exit 1', async () => {
    const file = path.join(setDir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    manifest.format = 2;
    writeFileSync(file, JSON.stringify(manifest, null, 2));
    const r = await runCli(['drill', '--env', 'prod', '--latest', '--json'], home);
    expect(r.code).toBe(1);
    const report = jsonOf<DrillReport>(r);
    expect(report.passed).toBe(false);
    expect(failures(report)).toEqual(['manifest.json: manifest format']);
    expect(report.checks[0]!.reason).toMatch(/made by a newer Lifeboat/);
  });

  it('reports a set with a damaged gzip stream inside a valid-looking manifest (hash recomputed) as content failure', async () => {
    // Someone "repairs" the manifest's hashes after damage: the content checks still catch it.
    const file = path.join(setDir, 'db.sqlite.gz');
    flipByte(file, 'middle');
    const manifestFile = path.join(setDir, 'manifest.json');
    const { sealManifest } = await import('../../electron/engine/manifest.js');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    const a = manifest.artifacts.find((x: { file: string }) => x.file === 'db.sqlite.gz');
    a.sha256 = sha256sum(file);
    const { integrity: _drop, ...body } = manifest;
    writeFileSync(manifestFile, JSON.stringify(sealManifest(body), null, 2));
    writeFileSync(path.join(setDir, 'SHA256SUMS'), manifest.artifacts.map((x: { sha256: string; file: string }) => `${x.sha256}  ${x.file}\n`).join(''));
    const report = await engineAt(home).call('drill.run', { env: 'prod' });
    expect(report.passed).toBe(false);
    expect(failures(report)).toEqual(['db.sqlite.gz: decompresses to the recorded snapshot']);
  });

  it('prints every check and exits 0 through the CLI on a good set', async () => {
    const r = await runCli(['drill', '--env', 'prod'], home);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS {2}db\.sqlite\.gz — PRAGMA integrity_check: ok/m);
    expect(r.stdout).toMatch(/Drill of shop_prod_\d{8}_\d{6} passed/);
    appendFileSync(path.join(setDir, 'assets.tar.gz'), 'x');
    const bad = await runCli(['drill', '--env', 'prod'], home);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^FAIL {2}assets\.tar\.gz — size and SHA-256 as recorded/m);
    expect(bad.stdout).toMatch(/FAILED: 1 of \d+ checks failed\. Do not restore from this set\./);
  });
});
