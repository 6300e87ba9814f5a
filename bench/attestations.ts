// Attestation verification per upload: uploads of the same small wheel with one PEP 740
// attestation (signed by @sigstore/mock's Fulcio and Rekor, verified against their trust root)
// against uploads of the same wheels without, to the same in-process pier, interleaved so that
// both see the same machine. Also the warm cost of verifying one attestation alone.
import { performance } from 'node:perf_hooks';
import { ratioRow, type BenchContext, type Benchmark, type Row } from './lib/bench.js';
import { startAttestingServer } from '../test/support/attesting-server.js';
import { postUpload } from '../test/support/upload.js';
import { parseAttestations } from '../src/attestations/shape.js';
import { verifySignature } from '../src/attestations/sigstore.js';
import { trustRootFromJson } from '../src/attestations/trust-root.js';
import { median } from './lib/stats.js';

async function run(ctx: BenchContext): Promise<Row[]> {
  const n = ctx.smoke ? 4 : 40;
  const index = await startAttestingServer();
  try {
    const forms = [];
    for (let i = 0; i < n; i++) {
      const plain = await index.wheel(`1.${i}`);
      const signed = await index.wheel(`2.${i}`);
      const attestation = await index.mock.attest({
        filename: signed.filename,
        sha256: signed.sha256,
        identity: index.identity(),
      });
      forms.push({
        plain: await index.parts(plain, `1.${i}`, null),
        signed: await index.parts(signed, `2.${i}`, JSON.stringify([attestation])),
        attestation,
      });
    }
    const plainMs: number[] = [];
    const signedMs: number[] = [];
    for (const form of forms) {
      for (const [parts, times] of [
        [form.plain, plainMs],
        [form.signed, signedMs],
      ] as const) {
        const started = performance.now();
        const up = await postUpload(index.server.url, index.apiToken, parts);
        times.push(performance.now() - started);
        if (up.status !== 200) throw new Error(`upload refused: ${up.status} ${up.body}`);
      }
    }
    const root = trustRootFromJson(index.mock.trustedRoot, 'bench');
    const one = parseAttestations(JSON.stringify([forms[0]!.attestation]))[0]!;
    verifySignature(one, root);
    const verifyMs: number[] = [];
    for (let i = 0; i < (ctx.smoke ? 5 : 50); i++) {
      const started = performance.now();
      verifySignature(one, root);
      verifyMs.push(performance.now() - started);
    }
    const rate = (ms: number[]) => (1000 * ms.length) / ms.reduce((a, b) => a + b, 0);
    ctx.log(
      `attestations: upload ${median(plainMs).toFixed(1)} ms, with attestation ${median(signedMs).toFixed(1)} ms, verification ${median(verifyMs).toFixed(1)} ms`,
    );
    return [
      ratioRow(
        'attestations',
        'attestation verification per upload',
        { value: rate(signedMs), unit: 'uploads/s' },
        { name: 'the same uploads without attestations', value: rate(plainMs) },
        { op: '>=', value: 0.7 },
        null,
        {
          uploads: n,
          upload_ms_median: median(plainMs),
          attested_upload_ms_median: median(signedMs),
          verify_ms_median: median(verifyMs),
        },
      ),
    ];
  } finally {
    await index.close();
  }
}

export const attestationsBench: Benchmark = { name: 'attestations', run };
