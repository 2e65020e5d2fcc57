import type { Transform } from 'node:stream';
import { createGunzip, createGzip, constants as zlib } from 'node:zlib';
import type { Artifact } from '../../../shared/manifest.js';

/** How an artifact's bytes are packed, as its manifest entry records it. */
export type Packing = Pick<Artifact, 'compression' | 'encryption'>;

/**
 * One step between an artifact's plain bytes and its stored bytes: `encode` on the way to the
 * store, `decode` on the way back. A chain is compression, then encryption.
 */
export interface Stage {
  readonly name: string;
  encode(): Transform;
  decode(): Transform;
}

/** gzip as every set has written it: level 6, 64 KiB chunks, so the stored bytes stay the same. */
const gzip: Stage = {
  name: 'gzip',
  encode: () => createGzip({ level: 6, chunkSize: 64 * 1024, memLevel: zlib.Z_DEFAULT_MEMLEVEL }),
  decode: () => createGunzip(),
};

function compressionStage(compression: Packing['compression']): Stage | undefined {
  switch (compression) {
    case 'gzip':
      return gzip;
    case 'none':
      return undefined;
  }
}

/**
 * The place for encryption: after compression (encrypted bytes do not compress), before the
 * stored hash (so a drill checks the bytes on disk without a key). Only `none` exists yet.
 */
function encryptionStage(encryption: Packing['encryption']): Stage | undefined {
  switch (encryption) {
    case 'none':
      return undefined;
  }
}

/** The stages from plain to stored bytes, in order. */
export function stagesOf(packing: Packing): Stage[] {
  return [compressionStage(packing.compression), encryptionStage(packing.encryption)].filter((s): s is Stage => s !== undefined);
}
