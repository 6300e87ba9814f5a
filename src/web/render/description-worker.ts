// A worker thread that renders Markdown and reStructuredText descriptions (descriptions.ts), so
// that a costly one runs beside the event loop, and can be stopped when it takes too long.
// Messages: {id, text, format}; answers: {id, html}, {id, refused} (reStructuredText that cannot
// be rendered, and why) or {id, error}, after {ready} once the renderers are loaded and warm.
import { parentPort } from 'node:worker_threads';
import { renderMarkup, type RenderedFormat } from './markup.js';

renderMarkup('markdown', '# ready\n\n*a* [b](https://example.com) `c` <b>d</b>\n\n- e\n');
renderMarkup('rst', 'ready\n=====\n\n*a* `b <https://example.com>`_ ``c``\n\n- e\n');
parentPort!.postMessage({ ready: true });

parentPort!.on(
  'message',
  ({ id, text, format }: { id: number; text: string; format: RenderedFormat }) => {
    try {
      const result = renderMarkup(format, text);
      parentPort!.postMessage(
        'html' in result ? { id, html: result.html.value } : { id, refused: result.refused },
      );
    } catch (err) {
      parentPort!.postMessage({ id, error: String(err) });
    }
  },
);
