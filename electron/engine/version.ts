import pkg from '../../package.json' with { type: 'json' };

/** Lifeboat's version, recorded in every manifest. */
export const TOOL_VERSION: string = pkg.version;
