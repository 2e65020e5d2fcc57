import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DrillReport } from '../../shared/drill.js';
import { Artifact, type Manifest } from '../../shared/manifest.js';
import type { ActivityEntry } from '../../shared/api.js';
import { createWebBridge } from '../../renderer/src/lib/web-bridge.js';
import { manifestDigest } from '../../electron/engine/manifest.js';
import { extract } from '../../electron/engine/sources/files/archive-extract.js';
import { ProgressMeter } from '../../electron/engine/progress.js';
import { makeLiveData, treeFingerprint } from '../support/data.js';
import { demoEnvironment, useEngines } from '../support/engine.js';
import { failure, jsonOf, requireBinary, runCli, useTempDirs } from '../support/tools.js';
import { useServedHosts } from '../support/web-host.js';
import { artifactReader } from '../../electron/engine/codec/index.js';
import { folderArtifacts } from '../../electron/engine/store/artifact-files.js';

/**
 * A sealed set whose archive holds more file bytes than its manifest records, found before the
 * archive's last file: the CLI once exited 13 with nothing printed (a promise never settled, and
 * the only timer left was unreferenced), leaving its scratch folder behind.
 */

const tempDir = useTempDirs();
const engineAt = useEngines();
const serve = useServedHosts();

/** A backed-up demo environment whose assets archive's manifest records 2000 file bytes: the first file fits, the second (300 kB) does not. */
async function overgrownSet() {
  const root = tempDir();
  makeLiveData(root);
  const home = path.join(root, 'home');
  const engine = engineAt(home);
  await engine.call('env.save', { environment: demoEnvironment(root) });
  const set = await engine.call('backup.run', { env: 'prod' });
  engine.close();
  const manifestFile = path.join(set.path, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  const archive = manifest.artifacts.find((a) => a.file === 'assets.tar.gz')!;
  if (archive.details.type !== 'archive') throw new Error('assets.tar.gz is not an archive');
  archive.details.totalBytes = 2000;
  // Sealed consistently with the damage, so only the extraction can find it.
  manifest.integrity.digest = manifestDigest(manifest);
  writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return { root, home, set };
}

const scratchLeft = (home: string) => (existsSync(path.join(home, 'scratch')) ? readdirSync(path.join(home, 'scratch')) : []);

function extraction(report: DrillReport) {
  return report.checks.find((c) => c.target === 'assets.tar.gz' && c.name === 'extracts safely');
}

describe('an archive that expands past its manifest before its last file', () => {
  it('drill --json: a FAIL naming the artifact, exit 1, an activity entry, no scratch folder', async () => {
    const { home, set } = await overgrownSet();
    const r = await runCli(['drill', '--env', 'prod', '--set', set.id, '--json'], home);
    expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(1);
    const report = jsonOf<DrillReport>(r);
    expect(report.passed).toBe(false);
    expect(extraction(report)?.status).toBe('FAIL');
    expect(extraction(report)?.reason).toContain('expand past the 2000 bytes the manifest records (at images/2026/photo.jpg)');
    expect(scratchLeft(home)).toEqual([]);
    const activity = jsonOf<ActivityEntry[]>(await runCli(['activity', '--env', 'prod', '--json'], home));
    expect(activity[0]).toMatchObject({ action: 'drill', outcome: 'failed' });
    expect(activity[0]!.summary).toContain('assets.tar.gz: extracts safely');
  });

  it('restore --dry-run exits 3 and restore is refused (exit 3) with the drill named; live data untouched, no scratch folder', async () => {
    const { root, home, set } = await overgrownSet();
    const before = treeFingerprint(path.join(root, 'live'));
    const dry = await runCli(['restore', '--env', 'prod', '--set', set.id, '--dry-run', '--json'], home);
    expect(dry.code, `${dry.stderr}\n${dry.stdout}`).toBe(3);
    const preview = jsonOf<{ ready: boolean; preflight: { name: string; status: string; reason: string }[] }>(dry);
    expect(preview.ready).toBe(false);
    expect(preview.preflight.find((c) => c.name === 'drill of the set')).toMatchObject({ status: 'FAIL' });
    expect(preview.preflight.find((c) => c.name === 'drill of the set')?.reason).toContain('assets.tar.gz');
    expect(scratchLeft(home)).toEqual([]);

    const run = await runCli(['restore', '--env', 'prod', '--set', set.id, '--confirm', 'prod', '--json'], home);
    expect(run.code, `${run.stderr}\n${run.stdout}`).toBe(3);
    const { error } = jsonOf<{ error: { code: string; message: string } }>(run);
    expect(error.code).toBe('SET_FAILED_DRILL');
    expect(error.message).toContain('assets.tar.gz');
    expect(treeFingerprint(path.join(root, 'live'))).toEqual(before);
    expect(scratchLeft(home)).toEqual([]);
    const activity = jsonOf<ActivityEntry[]>(await runCli(['activity', '--env', 'prod', '--json'], home));
    expect(activity[0]).toMatchObject({ action: 'restore', outcome: 'refused' });
  });

  it('the web host reports the FAIL and keeps no file of the scratch folder open', async () => {
    const { home, set } = await overgrownSet();
    const host = await serve({ home, args: ['--no-schedule'] });
    const bridge = createWebBridge({
      location: { origin: host.origin, pathname: '/', search: '', hash: `#token=${host.token}` },
      history: { replaceState: () => {} },
      storage: { getItem: () => null, setItem: () => {}, removeItem: () => {} },
      fetch: globalThis.fetch,
    });
    const drilled = await bridge.methods['drill.run']({ env: 'prod', set: set.id });
    if (!drilled.ok) throw new Error(`${drilled.error.message}\n${host.logs()}`);
    expect(extraction(drilled.result)?.status).toBe('FAIL');
    expect(extraction(drilled.result)?.reason).toContain('images/2026/photo.jpg');
    expect(scratchLeft(home)).toEqual([]);
    // node-tar used to hold the half-written file open, waiting for a drain that never came.
    const fdDir = `/proc/${host.pid}/fd`;
    const open = readdirSync(fdDir).map((fd) => {
      try {
        return readlinkSync(path.join(fdDir, fd));
      } catch {
        return '';
      }
    });
    expect(open.filter((f) => f.includes(path.join(home, 'scratch')))).toEqual([]);
  });
});

describe('a damaged archive', () => {
  /** a.bin and b.bin (200 kB of noise each) and c.txt, packed by tar(1); `damage` edits the uncompressed tar first. */
  function packed(damage: (tar: Buffer) => Buffer = (t) => t): string {
    const root = tempDir();
    mkdirSync(path.join(root, 'src'));
    writeFileSync(path.join(root, 'src', 'a.bin'), randomBytes(200_000));
    writeFileSync(path.join(root, 'src', 'b.bin'), randomBytes(200_000));
    writeFileSync(path.join(root, 'src', 'c.txt'), 'hi\n');
    const tar = path.join(root, 'assets.tar');
    execFileSync(requireBinary('tar', 'tar'), ['-C', path.join(root, 'src'), '-cf', tar, 'a.bin', 'b.bin', 'c.txt']);
    writeFileSync(tar, damage(readFileSync(tar)));
    execFileSync(requireBinary('gzip', 'gzip'), [tar]);
    return `${tar}.gz`;
  }
  const details = { type: 'archive', fileCount: 3, totalBytes: 400_003, dirCount: 0, symlinkCount: 0, indexFile: 'assets.files.jsonl' } as const;
  const extractInto = (archive: string) => {
    const dest = path.join(path.dirname(archive), 'dest');
    mkdirSync(dest);
    const progress = new ProgressMeter({ operation: 'drill', env: 't' }, { bytes: 0, files: 0 }, undefined);
    const bytes = readFileSync(archive);
    const artifact = Artifact.parse({
      source: 'assets',
      kind: 'files',
      file: path.basename(archive),
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      compression: 'gzip',
      encryption: 'none',
      details,
    });
    return failure(extract(artifactReader(folderArtifacts(path.dirname(archive))), artifact, dest, details, { links: 'record', signal: new AbortController().signal, progress }));
  };

  it('cut off inside its second file: the error names that entry', async () => {
    const archive = packed();
    truncateSync(archive, Math.floor(statSync(archive).size * 0.75));
    const err = await extractInto(archive);
    expect(err.message).toContain('assets.tar.gz could not be extracted');
    expect(err.message).toContain('b.bin');
  });

  it('with an unreadable header after its first file: the error names the entry it got to', async () => {
    // The header after a.bin (512 + 200192 bytes in) gets a wrong checksum.
    const archive = packed((tar) => {
      tar.write('9999999 ', 512 + 200_192 + 148, 'latin1');
      return tar;
    });
    const err = await extractInto(archive);
    expect(err.message).toContain('checksum failure');
    expect(err.message).toContain('a.bin');
  });
});
