/** The artifact codec: how an artifact's plain bytes become stored bytes and back. Plug-ins use only this. */
export type { ArtifactFiles, StoredFiles } from './artifact-files.js';
export { artifactReader, artifactWriter, ArtifactCodec, type ArtifactReader, type ArtifactWriter, type ReadOptions, type StoredFields, type WriteOptions, type Written } from './codec.js';
export type { Packing, Stage } from './stages.js';
