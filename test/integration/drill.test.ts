import { appendFileSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DrillReport } from '../../shared/drill.js';
import { canonicalJson, checksumList } from '../../electron/engine/manifest.js';
import { makeAppDb, makeAssets } from '../support/data.js';
import { demoEnvironment, useEngines } from '../support/engine.js';
import { resealArtifact } from '../support/reseal.js';
import { jsonOf, requireBinary, runCli, sha256sum, useTempDirs } from '../support/tools.js';

const tempDir = useTempDirs();
const engineAt = useEngines();

/** The checks that failed, as `target: name`, so a test can say which artifact was named. */
function failures(report: DrillReport): string[] {
  return report.checks.filter((c) => c.status === 'FAIL').map((c) => `${c.target}: ${c.name}`);
}

/** Writes a manifest object and seals it as the backup does: the SHA-256 of its canonical JSON without `integrity`. */
function writeSealed(setDir: string, manifest: Record<string, unknown>): void {
  const { integrity: _old, ...body } = manifest;
  const digest = createHash('sha256').update(canonicalJson(body)).digest('hex');
  writeFileSync(path.join(setDir, 'manifest.json'), `${JSON.stringify({ ...body, integrity: { method: 'sha256', digest } }, null, 2)}\n`);
}

const readManifestJson = (setDir: string) => JSON.parse(readFileSync(path.join(setDir, 'manifest.json'), 'utf8')) as Record<string, unknown> & { artifacts: { file: string; sha256: string }[] };

/** Rewrites the lines of the assets index with `edit`, then re-seals its checksum everywhere, as if the index had been written that way. */
function editIndex(setDir: string, edit: (entry: Record<string, unknown>) => void): void {
  const file = path.join(setDir, 'assets.files.jsonl');
  const lines = readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const entry of lines.slice(1)) edit(entry);
  writeFileSync(file, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  resealArtifact(setDir, 'assets.files.jsonl');
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
    writeFileSync(path.join(setDir, 'SHA256SUMS'), checksumList(manifest));
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

  for (const hidden of ['.hidden', '.DS_Store']) {
    it(`fails naming a hidden file ${hidden} added to the set`, async () => {
      writeFileSync(path.join(setDir, hidden), 'Finder was here');
      const report = await engineAt(home).call('drill.run', { env: 'prod' });
      expect(failures(report)).toEqual(['set: no unexpected files']);
      expect(report.checks.find((c) => c.status === 'FAIL')!.reason).toContain(hidden);
    });
  }

  it('fails naming a hidden folder added to the set', async () => {
    mkdirSync(path.join(setDir, '.git'));
    const report = await engineAt(home).call('drill.run', { env: 'prod' });
    expect(failures(report)).toEqual(['set: no unexpected files']);
    expect(report.checks.find((c) => c.status === 'FAIL')!.reason).toContain('.git');
  });

  it('records the recovery card in the manifest and SHA256SUMS, so sha256sum -c checks it too', async () => {
    const manifest = readManifestJson(setDir);
    const card = readFileSync(path.join(setDir, 'RESTORE.txt'));
    expect(manifest.recoveryCard).toEqual({ file: 'RESTORE.txt', size: card.length, sha256: sha256sum(path.join(setDir, 'RESTORE.txt')) });
    expect(readFileSync(path.join(setDir, 'SHA256SUMS'), 'utf8')).toContain(`${sha256sum(path.join(setDir, 'RESTORE.txt'))}  RESTORE.txt\n`);
    const sums = spawnSync(requireBinary('sha256sum', 'coreutils'), ['-c', 'SHA256SUMS'], { cwd: setDir, encoding: 'utf8' });
    expect(sums.status).toBe(0);
    expect(sums.stdout).toContain('RESTORE.txt: OK');
    const report = await engineAt(home).call('drill.run', { env: 'prod' });
    expect(report.passed).toBe(true);
    expect(report.checks.find((c) => c.target === 'RESTORE.txt')).toMatchObject({ name: 'size and SHA-256 as recorded', status: 'PASS' });
  });

  it('fails naming RESTORE.txt when one of its bytes is flipped, and sha256sum -c says so too', async () => {
    flipByte(path.join(setDir, 'RESTORE.txt'), 'middle');
    const report = await engineAt(home).call('drill.run', { env: 'prod' });
    expect(report.passed).toBe(false);
    expect(failures(report)).toEqual(['RESTORE.txt: size and SHA-256 as recorded']);
    const sums = spawnSync(requireBinary('sha256sum', 'coreutils'), ['-c', 'SHA256SUMS'], { cwd: setDir, encoding: 'utf8' });
    expect(sums.status).not.toBe(0);
    expect(sums.stdout).toContain('RESTORE.txt: FAILED');
  });

  it('fails naming RESTORE.txt when it is missing', async () => {
    rmSync(path.join(setDir, 'RESTORE.txt'));
    const report = await engineAt(home).call('drill.run', { env: 'prod' });
    expect(failures(report)).toEqual(['RESTORE.txt: size and SHA-256 as recorded']);
  });

  it('passes a set made before the recovery card was recorded, saying that its card was not compared', async () => {
    const manifest = readManifestJson(setDir);
    delete manifest.recoveryCard;
    writeSealed(setDir, manifest);
    writeFileSync(path.join(setDir, 'SHA256SUMS'), manifest.artifacts.map((a) => `${a.sha256}  ${a.file}\n`).join(''));
    appendFileSync(path.join(setDir, 'RESTORE.txt'), 'edited by hand\n');
    const report = await engineAt(home).call('drill.run', { env: 'prod' });
    expect(failures(report)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.checks.find((c) => c.target === 'RESTORE.txt')!.reason).toMatch(/not recorded in sets made before/);
  });

  it('verifies a manifest holding a field this Lifeboat does not know, and fails when that field is changed', async () => {
    const manifest = readManifestJson(setDir);
    manifest.encryptionPlan = { cipher: 'age', recipients: ['age1example'] };
    writeSealed(setDir, manifest);
    const good = await engineAt(home).call('drill.run', { env: 'prod' });
    expect(failures(good)).toEqual([]);
    expect(good.passed).toBe(true);
    const text = readFileSync(path.join(setDir, 'manifest.json'), 'utf8');
    writeFileSync(path.join(setDir, 'manifest.json'), text.replace('age1example', 'age1forged0'));
    const bad = await engineAt(home).call('drill.run', { env: 'prod' });
    expect(failures(bad)).toContain('manifest.json: manifest checksum');
  });

  it('verifies a manifest as written when its environment leaves out a field that now has a default', async () => {
    // A set from before `exclude` had a default: the parsed body gains `exclude: []`, the file does not have it.
    const manifest = readManifestJson(setDir) as ReturnType<typeof readManifestJson> & { environment: { sources: Record<string, unknown>[] } };
    delete manifest.environment.sources[1]!.exclude;
    writeSealed(setDir, manifest);
    const report = await engineAt(home).call('drill.run', { env: 'prod' });
    expect(failures(report)).toEqual([]);
  });

  it('fails naming the path when an mtime in the index differs from the archive', async () => {
    editIndex(setDir, (e) => {
      if (e.path === 'notes.txt') e.mtime = (e.mtime as number) + 1000;
    });
    const report = await engineAt(home).call('drill.run', { env: 'prod' });
    expect(report.passed).toBe(false);
    expect(failures(report)).toEqual(['assets.tar.gz: times, modes and owners match the index']);
    expect(report.checks.find((c) => c.status === 'FAIL')!.reason).toMatch(/notes\.txt \(modified/);
  });

  it("fails naming the path when the mode, owner or a folder's time in the index differs from the archive", async () => {
    editIndex(setDir, (e) => {
      if (e.path === 'docs/readme.md') e.mode = 0o4755;
      if (e.path === 'images/logo.png') e.uid = 4242;
      if (e.path === 'images/2026') e.mtime = 0;
    });
    const report = await engineAt(home).call('drill.run', { env: 'prod' });
    expect(failures(report)).toEqual(['assets.tar.gz: times, modes and owners match the index']);
    const reason = report.checks.find((c) => c.status === 'FAIL')!.reason;
    expect(reason).toContain('docs/readme.md (mode');
    expect(reason).toContain('images/logo.png (owner');
    expect(reason).toContain('images/2026 (modified');
  });
});
