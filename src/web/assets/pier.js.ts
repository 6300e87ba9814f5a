// The only script, served at /static/pier.js: progressive enhancement. Every page works without
// it; with it, "Copy" buttons copy a code block (the workflow, a new token, an install command).
export const PIER_JS = `'use strict';
(function () {
  function copyText(text, button) {
    var done = function () {
      var label = button.textContent;
      button.textContent = 'Copied';
      button.setAttribute('data-copied', 'true');
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallback(text); done(); });
    } else {
      fallback(text);
      done();
    }
  }
  function fallback(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    try { document.execCommand('copy'); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(area);
  }
  document.addEventListener('DOMContentLoaded', function () {
    var buttons = document.querySelectorAll('[data-copy-target]');
    for (var i = 0; i < buttons.length; i++) {
      var button = buttons[i];
      button.hidden = false;
      button.addEventListener('click', function (event) {
        var b = event.currentTarget;
        var target = document.getElementById(b.getAttribute('data-copy-target'));
        if (target) copyText(target.textContent, b);
      });
    }
  });
})();
`;
