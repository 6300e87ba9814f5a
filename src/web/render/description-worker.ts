// A worker thread that renders Markdown descriptions (descriptions.ts), so that a costly one runs
// beside the event loop, and can be stopped when it takes too long. Messages: {id, text};
// answers: {id, html} or {id, error}, after {ready} once the renderer is loaded and warm.
import { parentPort } from 'node:worker_threads';
import { renderMarkdown } from './markdown.js';

renderMarkdown('# ready\n\n*a* [b](https://example.com) `c` <b>d</b>\n\n- e\n');
parentPort!.postMessage({ ready: true });

parentPort!.on('message', ({ id, text }: { id: number; text: string }) => {
  try {
    parentPort!.postMessage({ id, html: renderMarkdown(text).value });
  } catch (err) {
    parentPort!.postMessage({ id, error: String(err) });
  }
});
