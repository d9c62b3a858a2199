import type { PolicyLayerRef, PublishedLayer } from '@airlock/data-access';
import type { LayerRefResponse, PolicyLayerResponse } from './dto/policy.response';
import { MODE_NAMES, SCOPE_NAMES } from './policy-bundle.layers';

export function toLayerRefResponse(layer: PolicyLayerRef): LayerRefResponse {
  return { scope: SCOPE_NAMES[layer.scope], key: layer.scope === 'TENANT' ? null : layer.key, mode: MODE_NAMES[layer.mode], policyId: layer.policyId, version: layer.version };
}

export function toLayerResponse(layer: PublishedLayer): PolicyLayerResponse {
  return {
    ...toLayerRefResponse(layer),
    policyName: layer.policyName,
    revision: layer.revision,
    publishedAt: layer.publishedAt,
    publishedById: layer.publishedById,
    publishedBy: layer.publishedByName,
  };
}
