// The token shape `pier dev-oidc --kind KIND` imitates. Each trusted-publishing provider that has
// one declares it in its own module (the `dev` member of its definition in
// src/oidc/providers/<kind>.ts), so adding a provider adds its development tokens in the same
// place as its claim rules; src/dev-oidc is made from the registry. Pure functions of the
// settings, the --claims file and the issuer (helpers and the precedence rules: ./claims.ts).

/** The claims of a development token (besides iss, aud, iat, nbf, exp and jti). */
export type DevClaims = Record<string, unknown>;

/**
 * The job a token describes, as `pier dev-oidc`'s flags give it. Each setting drives its claim and
 * the claims derived from it; what a setting means is the platform's (its shape says so in
 * `flags`), e.g. `repository` is GitHub's OWNER/REPO and GitLab's NAMESPACE/PROJECT.
 */
export interface JobSettings {
  /** The repository or project the pipeline belongs to (the platform's path or slug). */
  repository?: string;
  /** The owner's (organisation's, namespace's) immutable id. */
  ownerId?: string;
  /** The pipeline file or definition (GitHub: a workflow file name; GitLab: a config path). */
  workflow?: string;
  /** The deployment environment; no environment claim when unset. */
  environment?: string;
  /** The full ref: `refs/heads/main`, `refs/tags/v1.0`. */
  ref?: string;
  /** The commit: 40 (or 64) lower-case hexadecimal digits. */
  sha?: string;
  /** What started the pipeline (GitHub `event_name`, GitLab `pipeline_source`). */
  event?: string;
  /** GitHub only: the reusable workflow that defines the job, OWNER/REPO/.github/workflows/FILE@REF. */
  jobWorkflowRef?: string;
}

/** How `pier dev-oidc` is reached, for the checks of a platform whose jobs ask in their own way. */
export interface ServerSettings {
  /** The --issuer flag, when given. */
  issuer: string | undefined;
  /** The listen address (--host). */
  host: string;
  /** Whether it serves HTTPS (--tls-cert and --tls-key). */
  tls: boolean;
}

/**
 * How a job asks for its token; the server answers that request and exports what the job has.
 * Every server also answers GitHub's request (its `requestUrl`), whatever the kind.
 * - `actions`: GitHub Actions' GET of ACTIONS_ID_TOKEN_REQUEST_URL with `audience` in the query
 *   and `Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answered `{"value": JWT}`; the
 *   server exports those two and GITHUB_ACTIONS=true.
 * - `gce-metadata`: Google's metadata server, GET
 *   `http://$GCE_METADATA_HOST/computeMetadata/v1/instance/service-accounts/default/identity?audience=AUD&format=full`
 *   with `Metadata-Flavor: Google`, answered with the bare JWT; the server exports GCE_METADATA_HOST.
 * - `azure-devops`: Azure Pipelines' POST to `$SYSTEM_OIDCREQUESTURI?api-version=7.1` with
 *   `Authorization: Bearer $SYSTEM_ACCESSTOKEN`, answered `{"oidcToken": JWT}`; the server
 *   exports those two.
 */
export type TokenRequest = 'actions' | 'gce-metadata' | 'azure-devops';

export interface DevTokenShape {
  /** What the startup text calls the platform: 'GitHub Actions', 'GitLab CI'. */
  platform: string;
  /** How its jobs ask for a token (default `actions`). */
  tokenRequest?: TokenRequest;
  /** The audience of every token it serves, when a job cannot ask for one (Azure DevOps'). */
  fixedAudience?: string;
  /**
   * The issuer of a development server at baseUrl when --issuer is not given (default: baseUrl);
   * `job` and `file` for a platform whose issuer names the job's organization (Azure DevOps).
   */
  issuer?(baseUrl: string, job: Readonly<JobSettings>, file: Readonly<DevClaims>): string;
  /** Where the JWKS is served besides /.well-known/jwks (GitLab: /oauth/discovery/keys). */
  jwksPath?: string;
  /** The audience of a token request that names none; undefined: the request must name one. */
  defaultAudience?(claims: Readonly<DevClaims>): string | undefined;
  /**
   * The settings this platform cannot have, as a message naming the flag (`--repository must be
   * …, got '…'`), or null. The shared checks (--environment, --sha, --event) have run already.
   * `server`: how the server is reached, for a platform that cannot have every setting of it.
   */
  checkJob(job: Readonly<JobSettings>, server?: Readonly<ServerSettings>): string | null;
  /** The claims a job's token carries besides iss, aud, iat, nbf, exp and jti. */
  claims(job: Readonly<JobSettings>, file: Readonly<DevClaims>, issuer: string): DevClaims;
  /**
   * The job's own variables (GITHUB_REPOSITORY, CI_PROJECT_PATH, …) that `pier publish` reads,
   * besides those of its token request, which the server exports (`tokenRequest`). An undefined
   * value is left out.
   */
  environment(claims: Readonly<DevClaims>, issuer: string): Record<string, string | undefined>;
  /** The `pier publisher add` flags of a publisher these tokens match, after `--provider KIND`. */
  publisherFlags(claims: Readonly<DevClaims>): string[];
  /** Lines the startup text adds after its first, each starting with '# '. */
  notes?: readonly string[];
  /** One clause for --help: what the flags mean here and which claims they derive. */
  flags: string;
}
