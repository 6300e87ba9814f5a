// A trust root's keys and certificates, as sigstore-js verifies with them: parsed once per root,
// when the first attestation is verified (the module, with sigstore-js, is imported then too:
// src/attestations/service.ts), so that `pier serve` does not pay for it at start.
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial, type TrustMaterial } from '@sigstore/verify';
import { TrustRootError, type TrustRoot } from './trust-root.js';

const parsed = new WeakMap<TrustRoot, TrustMaterial>();

/** The root's trust material. Throws TrustRootError when a key or certificate does not parse. */
export function trustMaterialOf(root: TrustRoot): TrustMaterial {
  let material = parsed.get(root);
  if (material === undefined) {
    try {
      material = toTrustMaterial(TrustedRoot.fromJSON(root.json));
    } catch (err) {
      throw new TrustRootError(
        `${root.source}: not a usable trusted root: ${(err as Error).message}`,
      );
    }
    parsed.set(root, material);
  }
  return material;
}
