// `publish(options)`: the whole job of the publish client, shared by `pier publish` and the
// GitHub Action. Find and check the distributions, hash them, get a credential (an explicit
// token, or trusted publishing: audience, ambient OIDC token, exchange), upload each file with
// retries, skip what the index has when asked, burn the minted token, and say what happened.
// With `attestations`, each file is first signed (a PEP 740 publish attestation, attest.ts) and
// the attestation written next to it; every `<dist>.<type>.attestation` file is uploaded with
// its distribution.
import type { AmbientContext } from './ambient.js';
import { CI_JOBS_WITH_SIGSTORE_TOKENS, CI_JOBS_WITH_TOKENS, jobOidcToken } from './job-token.js';
import { attestationFilesFor, attestationsField } from './attestation-files.js';
import { writeFile } from 'node:fs/promises';
import {
  basicAuthorization,
  explicitCredentials,
  type BasicCredentials,
  type ExplicitInputs,
} from './credentials.js';
import { DEFAULT_CONCURRENCY, mapLimit } from './concurrency.js';
import { discoverDistributions } from './discover.js';
import { PublishError } from './errors.js';
import { burnToken, fetchAudience, mintToken } from './exchange.js';
import { discoverEndpoints, type TrustedPublishingEndpoints } from './tp-discovery.js';
import { ExistingFiles, isAlreadyExists } from './existing.js';
import { multipartUpload, formFields } from './form.js';
import { prepareAllDigests, type FileHashes } from './hashes.js';
import { closeConnections, describeResponse, type HttpResponse } from './http.js';
import { type CheckedDistribution } from './inspect.js';
import { fetchListedUrls } from './listed.js';
import { examineDistribution } from './examine.js';
import { silentReporter, type Reporter } from './report.js';
import { send, type RetryNotice } from './requests.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { PYPI_UPLOAD_URL, secureUrl, simpleIndexUrl } from './urls.js';

export interface PublishOptions {
  /** Distribution files or directories (default `dist`). */
  paths?: readonly string[];
  /** The upload URL (default PyPI's, https://upload.pypi.org/legacy/). */
  repositoryUrl?: string;
  /** The Simple index for --skip-existing (default: derived from the upload URL). */
  indexUrl?: string;
  /** An API token (sent as `__token__`). */
  token?: string;
  /** Explicit username and password (username defaults to `__token__`). */
  username?: string;
  password?: string;
  /** A configured credential (a .pypirc section's), used when no flag or variable gives one. */
  configured?: ExplicitInputs['configured'];
  /** A file holding the OIDC token to exchange (instead of the CI's ambient one). */
  oidcTokenFile?: string;
  skipExisting?: boolean;
  /** Validate each file's metadata as the index will (default true). */
  verifyMetadata?: boolean;
  /** Check and hash, print what would be uploaded, send nothing. */
  dryRun?: boolean;
  /** Also compute MD5 and BLAKE2b-256 (for --print-hash and summaries); SHA-256 always. */
  allDigests?: boolean;
  /** After the uploads, look up each file's download URL on the index (`PublishedFile.url`). */
  fileUrls?: boolean;
  /**
   * Sign each file with the CI job's OIDC identity (audience `sigstore`) before uploading, and
   * write `<dist>.publish.attestation` next to it (default: env PIER_ATTESTATIONS, else false).
   */
  attestations?: boolean;
  /** Fulcio for signing (default env PIER_FULCIO_URL, else Sigstore's public good). */
  fulcioUrl?: string;
  /** Rekor for signing (default env PIER_REKOR_URL, else Sigstore's public good). */
  rekorUrl?: string;
  /** Uploads in flight at once after the first file (default 4). */
  concurrency?: number;
  /** Environment read for credentials (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  reporter?: Reporter;
  retry?: Partial<RetryPolicy>;
  /** Stand-ins for the CI platform (tests). */
  ambient?: AmbientContext;
  /** Called with every secret the client obtains (OIDC token, minted token, password). */
  onSecret?: (secret: string) => void;
}

export type FileStatus = 'uploaded' | 'skipped' | 'would-upload';

export interface PublishedFile {
  path: string;
  filename: string;
  project: string;
  version: string;
  size: number;
  hashes: FileHashes;
  status: FileStatus;
  /** Why a file was skipped. */
  reason?: string;
  /** Where the index serves it (with `fileUrls`; null when its Simple page does not list it). */
  url?: string | null;
  /** The attestation files sent with it (or that would be, in a dry run). */
  attestations?: string[];
}

export type Authentication =
  | { method: 'token'; source: string }
  | { method: 'trusted-publishing'; source: string; platform: string; audience: string }
  | { method: 'none (dry run)'; source: string };

export interface PublishResult {
  repositoryUrl: string;
  authentication: Authentication;
  files: PublishedFile[];
}

interface Session {
  authorization: string;
  authentication: Authentication;
  minted: string | null;
}

const UPLOAD_ACCEPT = 'application/json;q=0.9, text/plain;q=0.8, text/html;q=0.7';

/** At most this many bytes of the files are held in memory between their checks and upload. */
const SEND_FROM_MEMORY_BUDGET = 128 * 1024 * 1024;

async function trustedPublishing(
  endpoints: TrustedPublishingEndpoints,
  options: PublishOptions,
  env: Readonly<Record<string, string | undefined>>,
  projects: string[],
  policy: RetryPolicy,
  reporter: Reporter,
  onRetry: (n: RetryNotice) => void,
): Promise<Session> {
  const host = endpoints.mint.host;
  const audience = await fetchAudience(endpoints, policy, onRetry);
  reporter.debug(
    `Trusted publishing at ${endpoints.audience.href} (${endpoints.via === 'pep807' ? 'PEP 807 discovery' : 'PyPI’s endpoints'}): audience '${audience}'`,
  );
  const oidc = await jobOidcToken(audience, host, {
    oidcTokenFile: options.oidcTokenFile,
    ambient: options.ambient,
    env,
    onSecret: options.onSecret,
    otherwise: 'no API token was given',
    hint: `Pass an API token with --token or PIER_TOKEN (the action’s \`password\` input), or publish from a CI job: ${CI_JOBS_WITH_TOKENS}.`,
  });
  reporter.debug(`OIDC token from ${oidc.source} (${oidc.platform})`);
  const minted = await mintToken(endpoints, oidc.token, { projects, policy, onRetry });
  options.onSecret?.(minted.token);
  reporter.info(
    `Trusted publishing: exchanged the ${oidc.platform === 'file' ? '' : `${oidc.platform} `}OIDC token for an upload token at ${host}` +
      (minted.expires ? ` (valid until ${new Date(minted.expires * 1000).toISOString()})` : ''),
  );
  return {
    authorization: basicAuthorization({ username: '__token__', password: minted.token }),
    authentication: {
      method: 'trusted-publishing',
      source: oidc.source,
      platform: oidc.platform,
      audience,
    },
    minted: minted.token,
  };
}

function uploadFailure(
  d: CheckedDistribution,
  res: HttpResponse,
  session: Session,
  uploadUrl: URL,
): PublishError {
  const what = `${d.filename}: ${uploadUrl.host} refused the upload: ${describeResponse(res)}`;
  const hints: string[] = [];
  if (res.status >= 300 && res.status < 400) {
    const location = String(res.headers.location ?? '');
    return new PublishError(
      'upload-failed',
      `${uploadUrl.href} redirected the upload to ${location}`,
      {
        hints: [
          location === `${uploadUrl.href}/`
            ? 'The repository URL is missing a trailing slash: add it.'
            : `If you trust it, use ${location} as the repository URL.`,
        ],
      },
    );
  }
  if (res.status === 401 || res.status === 403) {
    if (session.authentication.method === 'trusted-publishing')
      hints.push(
        `The token minted for this job does not cover the project '${d.project}': register the publisher for '${d.project}' too (pier publisher add ${d.project} …).`,
      );
    else
      hints.push(
        `Check the token from ${session.authentication.source}: it must be valid, unexpired, with the upload scope, and allowed for the project '${d.project}'.`,
      );
  } else if (isAlreadyExists(res))
    hints.push(
      'A different file of this name is on the index already, and filenames can never be reused: release a new version, or pass --skip-existing (the action’s `skip-existing: true`) to skip files that exist.',
    );
  else if (res.status === 404 || res.status === 405)
    hints.push(
      'Check the repository URL: it must be the index’s upload URL (pier and PyPI: …/legacy/), not its Simple index.',
    );
  else if (res.status === 413)
    hints.push('The file is larger than the index accepts: ask its administrator.');
  else if (res.status >= 500)
    hints.push(
      'The index kept failing: wait a few minutes and run again (with --skip-existing, to skip what was uploaded).',
    );
  else if (res.status === 400)
    hints.push('Fix what the index names, rebuild the distribution and publish again.');
  return new PublishError(res.status >= 500 ? 'unreachable' : 'upload-failed', what, { hints });
}

/** A boolean setting from the environment: true/false (1/0, yes/no), else a usage error. */
function envFlag(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new PublishError('usage', `${name} must be true or false, not '${value}'`);
}

/** Signs each file (before any upload) and writes its `<dist>.publish.attestation`. */
async function signAll(
  checked: readonly { d: CheckedDistribution; hashes: FileHashes }[],
  options: PublishOptions,
  env: Readonly<Record<string, string | undefined>>,
  reporter: Reporter,
): Promise<void> {
  // Loaded only when signing: @sigstore/sign stays out of every other publish's start-up.
  const attest = await import('./attest.js');
  const fulcio = secureUrl(
    options.fulcioUrl ?? (env.PIER_FULCIO_URL || attest.DEFAULT_FULCIO_URL),
    'The Fulcio URL',
  );
  const rekor = secureUrl(
    options.rekorUrl ?? (env.PIER_REKOR_URL || attest.DEFAULT_REKOR_URL),
    'The Rekor URL',
  );
  const oidc = await jobOidcToken(attest.SIGSTORE_AUDIENCE, fulcio.host, {
    ambient: options.ambient,
    env,
    onSecret: options.onSecret,
    otherwise: `signing attestations needs the job’s OIDC token of audience '${attest.SIGSTORE_AUDIENCE}'`,
    sigstore: true,
    hint: `Sign from a CI job (${CI_JOBS_WITH_SIGSTORE_TOKENS}; on GitLab CI an \`id_tokens\` entry SIGSTORE_ID_TOKEN with \`aud: sigstore\`), or publish without --attestations.`,
  });
  const services = {
    fulcioUrl: fulcio.href.replace(/\/$/, ''),
    rekorUrl: rekor.href.replace(/\/$/, ''),
  };
  reporter.debug(
    `Signing attestations with the ${oidc.platform} OIDC token (audience sigstore): Fulcio ${services.fulcioUrl}, Rekor ${services.rekorUrl}`,
  );
  const signer = attest.sigstoreSigner(oidc.token, services);
  // All files are signed before the first upload: a signing failure uploads nothing.
  await mapLimit(checked, 4, async ({ d, hashes }) => {
    const attestation = await signer.attest(d.filename, hashes.sha256);
    const path = `${d.path}${attest.PUBLISH_ATTESTATION_SUFFIX}`;
    await writeFile(path, JSON.stringify(attestation));
    const entry = attestation.verification_material.transparency_entries[0] as {
      logIndex?: string;
    };
    reporter.info(`Signed ${d.filename}: ${path} (Rekor log index ${entry.logIndex ?? '?'})`);
  });
}

/** Publishes the distributions. Resolves with what was done; rejects with a PublishError. */
export async function publish(options: PublishOptions = {}): Promise<PublishResult> {
  try {
    return await run(options);
  } finally {
    closeConnections();
  }
}

async function run(options: PublishOptions): Promise<PublishResult> {
  const env = options.env ?? process.env;
  const reporter = options.reporter ?? silentReporter;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const onRetry = (n: RetryNotice) => reporter.retry(n);
  const uploadUrl = secureUrl(options.repositoryUrl ?? PYPI_UPLOAD_URL, 'The repository URL');
  const indexUrl = secureUrl(options.indexUrl ?? simpleIndexUrl(uploadUrl), 'The index URL').href;
  const verifyMetadata = options.verifyMetadata ?? true;
  const attestations =
    options.attestations ?? envFlag('PIER_ATTESTATIONS', env.PIER_ATTESTATIONS) ?? false;

  // A failure to load surfaces where the digests are computed.
  if (options.allDigests) prepareAllDigests().catch(() => undefined);
  // 1. Everything that can be checked without the network.
  const found = await discoverDistributions(options.paths ?? []);
  // Checked and hashed a few at a time (reading overlaps), reported in order.
  const checked = await mapLimit(found, 4, (file) =>
    examineDistribution(file, { verifyMetadata, allDigests: options.allDigests ?? false }),
  );
  // The bytes read for the checks are the bytes sent, up to a budget; beyond it, files are
  // read again as they are sent.
  let kept = 0;
  for (const c of checked) {
    if (c.bytes === null) continue;
    if (kept + c.bytes.length > SEND_FROM_MEMORY_BUDGET) c.bytes = null;
    else kept += c.bytes.length;
  }
  for (const { d, hashes } of checked) reporter.hashes(d.filename, hashes);
  const projects = [...new Set(checked.map((c) => c.d.project))];
  reporter.debug(
    `${checked.length} distribution${checked.length === 1 ? '' : 's'} of ${projects.join(', ')} checked${verifyMetadata ? ', metadata verified' : ''}`,
  );

  // --oidc-token-file is a flag: it wins over credentials in the environment.
  const explicit: BasicCredentials | null = explicitCredentials(
    options.oidcTokenFile ? { ...options, configured: undefined } : options,
    options.oidcTokenFile ? {} : env,
  );
  if (explicit) options.onSecret?.(explicit.password);
  const result = (authentication: Authentication, files: PublishedFile[]): PublishResult => ({
    repositoryUrl: uploadUrl.href,
    authentication,
    files,
  });
  // Signed first (written next to each file), then every attestation file is sent with its file.
  if (attestations && !options.dryRun) await signAll(checked, options, env, reporter);
  const attached = await mapLimit(checked, 4, (c) => attestationFilesFor(c.d.path));
  const attachedTo = new Map(checked.map((c, i) => [c, attached[i]!]));
  const record = (
    c: (typeof checked)[number],
    status: FileStatus,
    reason?: string,
  ): PublishedFile => ({
    path: c.d.path,
    filename: c.d.filename,
    project: c.d.project,
    version: c.d.version,
    size: c.d.size,
    hashes: c.hashes,
    status,
    ...(reason === undefined ? {} : { reason }),
    ...(attachedTo.get(c)!.length > 0
      ? { attestations: attachedTo.get(c)!.map((a) => a.path) }
      : {}),
  });

  if (options.dryRun) {
    if (attestations)
      reporter.info(
        `Would sign ${checked.length} file${checked.length === 1 ? '' : 's'} with the job’s OIDC identity (not in a dry run)`,
      );
    const files = checked.map((c) => {
      reporter.end(c.d.filename, { status: 'would-upload' });
      return record(c, 'would-upload');
    });
    return result(
      explicit
        ? { method: 'token', source: explicit.source }
        : { method: 'none (dry run)', source: 'trusted publishing (not attempted in a dry run)' },
      files,
    );
  }

  // 2. The credential.
  let endpoints: TrustedPublishingEndpoints | null = null;
  let session: Session;
  if (explicit)
    session = {
      authorization: basicAuthorization(explicit),
      authentication: { method: 'token', source: explicit.source },
      minted: null,
    };
  else {
    endpoints = await discoverEndpoints(uploadUrl, policy, onRetry, (line) => reporter.debug(line));
    session = await trustedPublishing(endpoints, options, env, projects, policy, reporter, onRetry);
  }

  // 3. The uploads.
  const existing = options.skipExisting
    ? new ExistingFiles(
        indexUrl,
        // Credentials go only to the upload host (a private index needs them to read).
        (): Record<string, string> =>
          new URL(indexUrl).host === uploadUrl.host ? { authorization: session.authorization } : {},
        policy,
        onRetry,
      )
    : null;
  // Each file's outcome, or null when it was not attempted because another one failed.
  const outcomes: (PublishedFile | null)[] = checked.map(() => null);
  let failed = false;
  const uploadOne = async (c: (typeof checked)[number]): Promise<PublishedFile | null> => {
    if (failed) return null;
    const { d, hashes } = c;
    if (existing) {
      const there = await existing.lookup(d.name, d.filename, hashes.sha256);
      if (there.state === 'same' || there.state === 'different') {
        const reason =
          there.state === 'same'
            ? 'the index has it already (same SHA-256)'
            : 'the index has a different file of this name';
        if (there.state === 'different')
          reporter.warn(
            `${d.filename}: the index has a different file of this name (SHA-256 ${there.indexSha256 ?? 'unknown'}; this one ${hashes.sha256}); skipping it`,
          );
        reporter.end(d.filename, { status: 'skipped', reason });
        return record(c, 'skipped', reason);
      }
      if (there.state === 'unknown')
        reporter.debug(`cannot tell whether ${d.filename} exists (${there.reason}); uploading it`);
    }
    const fields = formFields(d, hashes);
    const files = attachedTo.get(c)!;
    // After the other fields and before the file, as uv sends it.
    if (files.length > 0) {
      fields.push(['attestations', attestationsField(files)]);
      reporter.debug(`${d.filename}: with ${files.map((f) => f.path).join(', ')}`);
    }
    const started = Date.now();
    const res = await send(
      uploadUrl,
      () => {
        const upload = multipartUpload(fields, { ...d, bytes: c.bytes });
        reporter.start(d.filename, upload.body.length);
        return {
          method: 'POST',
          headers: {
            authorization: session.authorization,
            'content-type': upload.contentType,
            accept: UPLOAD_ACCEPT,
          },
          body: upload.body,
          idleTimeoutMs: 120_000,
          onProgress: (sent) => reporter.progress(d.filename, sent, upload.body.length),
        };
      },
      policy,
      onRetry,
      `upload of ${d.filename}`,
    );
    c.bytes = null; // sent (or refused): no attempt needs them again
    if (res.status >= 200 && res.status < 300) {
      reporter.end(d.filename, { status: 'uploaded', seconds: (Date.now() - started) / 1000 });
      return record(c, 'uploaded');
    }
    if (options.skipExisting && isAlreadyExists(res)) {
      const reason = `the index answered: ${describeResponse(res)}`;
      reporter.end(d.filename, { status: 'skipped', reason });
      return record(c, 'skipped', reason);
    }
    const failure = uploadFailure(d, res, session, uploadUrl);
    reporter.end(d.filename, { status: 'failed', reason: `HTTP ${res.status}` });
    throw failure;
  };
  const settle = async (i: number) => {
    try {
      outcomes[i] = await uploadOne(checked[i]!);
    } catch (err) {
      failed = true;
      throw err;
    }
  };
  /** What was uploaded or skipped, in file order. */
  const done = () => outcomes.filter((o): o is PublishedFile => o !== null);
  try {
    // The first file alone: on a new project, its upload creates the project, which two
    // requests must not race for. Then the rest a few at a time (the index's work per file —
    // storing, inspecting, committing — overlaps with sending the next); after a failure no
    // new upload starts, and the first error in file order is the one reported.
    if (checked.length > 0) await settle(0);
    const rest = checked.map((_, i) => i).slice(1);
    await mapLimit(rest, Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY), settle);
    const files = done();
    if (options.fileUrls) {
      // Before the minted token is burned: a private index needs it to read.
      const urls = await fetchListedUrls(
        indexUrl,
        projects,
        new URL(indexUrl).host === uploadUrl.host ? { authorization: session.authorization } : {},
        policy,
        onRetry,
      );
      for (const f of files) f.url = urls.get(f.filename) ?? null;
    }
    return result(session.authentication, files);
  } catch (err) {
    if (err instanceof PublishError) throw err.withDone(done());
    throw err;
  } finally {
    if (session.minted !== null) {
      const burned = await burnToken(endpoints?.burn ?? null, session.minted);
      reporter.debug(
        burned ? 'Burned the minted token' : 'The index did not burn the minted token',
      );
    }
  }
}
