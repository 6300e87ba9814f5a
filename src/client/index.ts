// The publish client: `pier publish` and the GitHub Action are built on this. It imports nothing
// of the server (only src/packaging, node built-ins, hash-wasm and cli-progress), so that the
// action bundles it alone.
export { publish, type PublishOptions, type PublishResult, type PublishedFile } from './publish.js';
export { PublishError, formatPublishError, type PublishErrorCode } from './errors.js';
export {
  textReporter,
  silentReporter,
  describeOutcome,
  formatBytes,
  type Reporter,
  type FileOutcome,
} from './report.js';
export { hashLines, type FileHashes } from './hashes.js';
export { PYPI_UPLOAD_URL } from './urls.js';
