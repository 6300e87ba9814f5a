// A worker thread that computes some of an upload's digests (md5, sha256, BLAKE2b-256), so that
// hashing a large upload runs beside the event loop that parses it and writes it to storage.
// Two of them share the work (md5 and sha256 in one, BLAKE2b-256 in the other); the bytes come
// in shared-memory blocks that the main thread fills again once both have acknowledged them.
// Messages: {start, id} {data, id, slot, length} {end, id} {abort, id}; answers:
// {ack, id, slot} after each block, {digests, id, …hex digests} after end. A small upload comes
// whole instead, in shared memory of its own: {whole, id, bytes}, answered by {digests, …}.
import { parentPort, workerData } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { createBLAKE2b, type IHasher } from 'hash-wasm';

export type Algorithm = 'md5' | 'sha256' | 'blake2_256';

interface Hasher {
  update(bytes: Uint8Array): void;
  digest(): string;
}

type Message =
  | { type: 'start'; id: number }
  | { type: 'data'; id: number; slot: number; length: number }
  | { type: 'end'; id: number }
  | { type: 'abort'; id: number }
  | { type: 'whole'; id: number; bytes: Uint8Array };

const { algorithms, blocks } = workerData as {
  algorithms: Algorithm[];
  blocks: SharedArrayBuffer[];
};
const views = blocks.map((b) => new Uint8Array(b));
const sessions = new Map<number, Map<Algorithm, Hasher>>();
const spareBlake2: IHasher[] = [];

async function hasher(algorithm: Algorithm): Promise<Hasher> {
  if (algorithm !== 'blake2_256') {
    const h = createHash(algorithm);
    return { update: (b) => h.update(b), digest: () => h.digest('hex') };
  }
  const h = spareBlake2.pop() ?? (await createBLAKE2b(256));
  h.init();
  return {
    update: (b) => h.update(b),
    digest: () => {
      const d = h.digest('hex');
      spareBlake2.push(h);
      return d;
    },
  };
}

// Messages are handled in order; a session's `start` must finish before its data is hashed.
let queue: Promise<void> = Promise.resolve();

parentPort!.on('message', (m: Message) => {
  queue = queue
    .then(() => handle(m))
    .catch((err: unknown) => {
      parentPort!.postMessage({ type: 'error', id: m.id, message: String(err) });
    });
});

async function handle(m: Message): Promise<void> {
  switch (m.type) {
    case 'start': {
      const hashers = new Map<Algorithm, Hasher>();
      for (const a of algorithms) hashers.set(a, await hasher(a));
      sessions.set(m.id, hashers);
      return;
    }
    case 'data': {
      const hashers = sessions.get(m.id);
      if (hashers) {
        const bytes = views[m.slot]!.subarray(0, m.length);
        for (const h of hashers.values()) h.update(bytes);
      }
      parentPort!.postMessage({ type: 'ack', id: m.id, slot: m.slot });
      return;
    }
    case 'end': {
      const hashers = sessions.get(m.id);
      if (!hashers) return;
      sessions.delete(m.id);
      const digests: Record<string, string> = {};
      for (const [a, h] of hashers) digests[a] = h.digest();
      parentPort!.postMessage({ type: 'digests', id: m.id, ...digests });
      return;
    }
    case 'abort':
      sessions.delete(m.id);
      return;
    case 'whole': {
      const digests: Record<string, string> = {};
      for (const a of algorithms) {
        const h = await hasher(a);
        h.update(m.bytes);
        digests[a] = h.digest();
      }
      parentPort!.postMessage({ type: 'digests', id: m.id, ...digests });
      return;
    }
  }
}
