/** The tenant a single-organisation installation runs as: the first start creates it. */
export const DEFAULT_TENANT_NAME = 'default';
