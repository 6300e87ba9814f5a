// The stylesheet, served at /static/pier.css.
export const PIER_CSS = `
:root {
  --bg: #f6f7f9; --card: #fff; --text: #1c2330; --muted: #5b6575; --line: #dfe3ea;
  --accent: #1f5fbf; --accent-dark: #174a96; --accent-soft: #e8f0fc;
  --ok: #17703a; --ok-soft: #e6f4ea; --bad: #b3261e; --bad-soft: #fdecea; --warn: #8a5a00; --warn-soft: #fff4d6;
  --mono: ui-monospace, SFMono-Regular, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  --sans: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Roboto, Helvetica, Arial, sans-serif;
}
* { box-sizing: border-box; }
html { font-family: var(--sans); color: var(--text); background: var(--bg); font-size: 15px; line-height: 1.5; }
body { margin: 0; min-height: 100vh; display: flex; flex-direction: column; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre, kbd, samp { font-family: var(--mono); font-size: 0.9em; }
h1 { font-size: 1.7rem; margin: 0 0 0.4rem; line-height: 1.25; }
h2 { font-size: 1.2rem; margin: 1.6rem 0 0.6rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 0.4rem; }
header.site { background: #14233c; color: #fff; }
.bar { max-width: 1100px; margin: 0 auto; padding: 0 1.2rem; display: flex; align-items: center; gap: 1.2rem; min-height: 3.4rem; }
.bar.wide { max-width: 1300px; }
.brand { color: #fff; font-weight: 700; font-size: 1.2rem; letter-spacing: 0.02em; }
.brand .logo { color: #7fb2ff; }
header.site nav { display: flex; gap: 0.2rem; flex: 1; flex-wrap: wrap; }
header.site nav a { color: #c9d6ea; padding: 0.35rem 0.7rem; border-radius: 6px; }
header.site nav a:hover, header.site nav a[aria-current] { background: rgba(255,255,255,0.1); color: #fff; text-decoration: none; }
header .account { display: flex; align-items: center; gap: 0.6rem; }
header .account .user { color: #fff; font-weight: 600; }
main { max-width: 1100px; width: 100%; margin: 1.6rem auto; padding: 0 1.2rem; flex: 1; }
main.wide { max-width: 1300px; }
footer.site { color: var(--muted); font-size: 0.85rem; border-top: 1px solid var(--line); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1.2rem 1.4rem; margin-bottom: 1.2rem; }
.card > h2:first-child, .card > h3:first-child { margin-top: 0; }
.narrow { max-width: 460px; margin-left: auto; margin-right: auto; }
.narrow.medium { max-width: 640px; }
.quick-help { max-width: 560px; }
.spaced { margin-top: 1.2rem; }
.muted { color: var(--muted); }
.small { font-size: 0.85rem; }
.flash { border-radius: 8px; padding: 0.7rem 1rem; margin-bottom: 1.2rem; font-weight: 500; }
.flash-ok { background: var(--ok-soft); color: var(--ok); border: 1px solid #b7dfc3; }
.flash-error, .form-error { background: var(--bad-soft); color: var(--bad); border: 1px solid #f3c1bc; border-radius: 8px; padding: 0.7rem 1rem; margin-bottom: 1rem; }
.button, button { font: inherit; display: inline-block; border: 1px solid var(--accent); background: var(--accent); color: #fff; padding: 0.45rem 1rem; border-radius: 7px; cursor: pointer; font-weight: 600; line-height: 1.3; }
.button:hover, button:hover { background: var(--accent-dark); text-decoration: none; }
.button.small, button.small, .small.button { padding: 0.2rem 0.65rem; font-size: 0.85rem; font-weight: 500; }
.button.secondary, button.secondary { background: #fff; color: var(--accent); }
.button.secondary:hover, button.secondary:hover { background: var(--accent-soft); }
.button.danger, button.danger { background: #fff; color: var(--bad); border-color: #e3a9a4; }
.button.danger:hover, button.danger:hover { background: var(--bad-soft); }
header.site .button.small, header.site button.small { background: transparent; border-color: #5d7394; color: #e4ecf7; }
form.inline { display: inline; margin: 0; }
.field { margin-bottom: 0.9rem; }
.field label { display: block; font-weight: 600; margin-bottom: 0.25rem; font-size: 0.92rem; }
.field input[type=text], .field input[type=password], .field input[type=email], .field input:not([type]), .field select, .field textarea { width: 100%; font: inherit; padding: 0.45rem 0.6rem; border: 1px solid #c5ccd8; border-radius: 7px; background: #fff; }
.field input:focus, .field select:focus { outline: 2px solid #9cc0f5; border-color: var(--accent); }
.field.checkbox label { font-weight: 500; display: flex; gap: 0.45rem; align-items: center; }
.field .hint { color: var(--muted); font-size: 0.82rem; margin-top: 0.2rem; }
.field .error { color: var(--bad); font-size: 0.86rem; margin-top: 0.25rem; font-weight: 500; }
.field.has-error input, .field.has-error select { border-color: var(--bad); background: #fffafa; }
.grid-2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 0 1.2rem; }
.search { display: flex; gap: 0.5rem; margin: 0.4rem 0 1.2rem; }
.search input { flex: 1; font: inherit; padding: 0.55rem 0.8rem; border: 1px solid #c5ccd8; border-radius: 8px; font-size: 1rem; }
.hero { display: flex; justify-content: space-between; align-items: flex-start; gap: 1rem; flex-wrap: wrap; }
.hero .meta { color: var(--muted); }
ul.projects { list-style: none; padding: 0; margin: 0; }
ul.projects li { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 0.8rem 1.1rem; margin-bottom: 0.6rem; display: flex; justify-content: space-between; gap: 1rem; align-items: baseline; }
ul.projects .name { font-weight: 700; font-size: 1.05rem; }
ul.projects .version { color: var(--muted); font-family: var(--mono); font-size: 0.85rem; margin-left: 0.5rem; }
ul.projects .summary { color: var(--text); margin-top: 0.1rem; }
ul.projects .when { color: var(--muted); font-size: 0.85rem; white-space: nowrap; }
.badge { display: inline-block; font-size: 0.75rem; font-weight: 600; padding: 0.1rem 0.5rem; border-radius: 999px; background: var(--accent-soft); color: var(--accent-dark); vertical-align: middle; }
.badge-yanked { background: var(--warn-soft); color: var(--warn); }
.badge-private { background: #eee; color: #444; }
.badge-tp { background: var(--ok-soft); color: var(--ok); }
.badge-off { background: #eee; color: #555; }
.layout-2 { display: grid; grid-template-columns: minmax(0, 1fr) 300px; gap: 1.4rem; align-items: start; }
@media (max-width: 860px) { .layout-2 { grid-template-columns: minmax(0, 1fr); } }
.sidebar h3 { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin: 1rem 0 0.3rem; }
.sidebar h3:first-child { margin-top: 0; }
.sidebar ul { list-style: none; padding: 0; margin: 0; }
.sidebar li { margin: 0.15rem 0; overflow-wrap: anywhere; }
.install { display: flex; align-items: center; gap: 0.5rem; background: #14233c; color: #e8eef8; border-radius: 8px; padding: 0.55rem 0.8rem; margin: 0.6rem 0 0; overflow-x: auto; }
.install code { white-space: nowrap; flex: 1; }
.install button { background: transparent; border-color: #5d7394; color: #e4ecf7; }
.yanked-note { background: var(--warn-soft); color: var(--warn); border: 1px solid #f0d79a; border-radius: 8px; padding: 0.6rem 0.9rem; margin: 0.8rem 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.5rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); font-weight: 600; }
td.num { white-space: nowrap; }
.files .filename { font-family: var(--mono); font-weight: 600; overflow-wrap: anywhere; }
.hashes { font-family: var(--mono); font-size: 0.78rem; color: var(--muted); overflow-wrap: anywhere; }
.hashes dt { float: left; clear: left; width: 5.5rem; color: var(--text); }
.hashes dd { margin: 0 0 0 5.6rem; }
.provenance { margin-top: 0.45rem; padding: 0.45rem 0.6rem; background: #f3faf5; border: 1px solid #cfe8d6; border-radius: 8px; font-size: 0.85rem; display: flex; flex-wrap: wrap; gap: 0.25rem 0.9rem; align-items: center; }
.prov-label { color: var(--muted); }
.attestations { margin-top: 0.35rem; display: grid; gap: 0.3rem; }
.attestation { padding: 0.4rem 0.6rem; background: #f3f7fd; border: 1px solid #cfdcef; border-radius: 8px; font-size: 0.85rem; display: flex; flex-wrap: wrap; gap: 0.25rem 0.9rem; align-items: center; overflow-wrap: anywhere; }
.provenance-status { font-size: 0.9rem; margin: 0 0 0.6rem; }
.provenance-status.degraded { color: var(--warn); }
.releases { list-style: none; padding: 0; margin: 0; }
.releases li { display: flex; justify-content: space-between; gap: 0.6rem; padding: 0.35rem 0; border-bottom: 1px solid var(--line); }
.releases li:last-child { border-bottom: none; }
.releases .v { font-family: var(--mono); font-weight: 600; }
.releases .current .v::before { content: "▸ "; color: var(--accent); }
.description { overflow-wrap: anywhere; }
.description.markdown img, .description.rst img { max-width: 100%; }
.description.markdown pre, .description.rst pre { background: #f3f5f8; padding: 0.7rem; border-radius: 7px; overflow-x: auto; }
pre.description { white-space: pre-wrap; background: #fafbfc; border: 1px solid var(--line); border-radius: 8px; padding: 0.9rem; }
.tabs { display: flex; gap: 0.3rem; border-bottom: 1px solid var(--line); margin-bottom: 1rem; flex-wrap: wrap; }
.tabs a { padding: 0.45rem 0.9rem; border: 1px solid transparent; border-bottom: none; border-radius: 8px 8px 0 0; color: var(--muted); font-weight: 600; }
.tabs a[aria-current] { background: var(--card); border-color: var(--line); color: var(--text); margin-bottom: -1px; }
.manage-nav { display: flex; gap: 0.4rem; flex-wrap: wrap; margin: 0.2rem 0 1.2rem; }
.manage-nav a { padding: 0.3rem 0.8rem; border-radius: 999px; border: 1px solid var(--line); background: var(--card); color: var(--text); font-size: 0.9rem; }
.manage-nav a[aria-current] { background: var(--accent); border-color: var(--accent); color: #fff; }
.publisher { border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.1rem; margin-bottom: 1rem; background: var(--card); }
.publisher-head { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; }
.publisher .title { font-weight: 700; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem; margin: 0.6rem 0; font-size: 0.9rem; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; font-family: var(--mono); overflow-wrap: anywhere; }
.codeblock { position: relative; }
.codeblock pre { background: #14233c; color: #e8eef8; padding: 0.9rem 1rem; border-radius: 8px; overflow-x: auto; font-size: 0.82rem; line-height: 1.45; margin: 0.4rem 0 0; }
.codeblock .copy { position: absolute; top: 0.5rem; right: 0.5rem; background: #2b416a; border-color: #5d7394; }
.codeblock .path { font-family: var(--mono); font-size: 0.82rem; color: var(--muted); }
.secret { font-family: var(--mono); font-size: 1rem; background: var(--warn-soft); border: 1px dashed #d9b45a; padding: 0.6rem 0.8rem; border-radius: 8px; overflow-wrap: anywhere; }
.audit td.details { font-size: 0.85rem; }
.audit .action { font-family: var(--mono); font-weight: 600; white-space: nowrap; }
.audit .failed { color: var(--bad); }
.audit .reason { color: var(--bad); font-weight: 500; }
.filters { display: flex; gap: 0.35rem; flex-wrap: wrap; margin-bottom: 1rem; }
.filters a { padding: 0.25rem 0.75rem; border-radius: 999px; border: 1px solid var(--line); background: var(--card); color: var(--text); font-size: 0.88rem; }
.filters a[aria-current] { background: var(--accent); border-color: var(--accent); color: #fff; }
.pager { margin-top: 1rem; }
.error-message { font-size: 1.05rem; }
.steps { counter-reset: step; list-style: none; padding: 0; }
.steps li { margin-bottom: 0.4rem; }
/* The hidden attribute wins over the display of buttons: script-only controls stay hidden without it. */
[hidden] { display: none !important; }
/* The navigation: a bar on wide screens, a <details> menu (no script needed) on phones. */
.site-menu { display: none; position: relative; }
.site-menu summary { cursor: pointer; list-style: none; color: #e4ecf7; padding: 0.3rem 0.75rem; border: 1px solid #5d7394; border-radius: 6px; }
.site-menu summary::-webkit-details-marker { display: none; }
.site-menu nav { position: absolute; left: 0; top: 2.3rem; z-index: 10; display: flex; flex-direction: column; min-width: 13rem; background: #14233c; padding: 0.5rem; border-radius: 8px; box-shadow: 0 6px 18px rgba(0,0,0,0.25); }
.site-menu nav a { color: #c9d6ea; padding: 0.4rem 0.7rem; border-radius: 6px; }
@media (max-width: 720px) {
  header.site nav.main-nav { display: none; }
  .site-menu { display: block; }
  .bar { gap: 0.6rem; padding: 0 0.8rem; }
  .account { margin-left: auto; display: flex; gap: 0.4rem; align-items: center; min-width: 0; }
  main { padding-left: 0.8rem; padding-right: 0.8rem; }
  main table { display: block; overflow-x: auto; max-width: 100%; }
  .card { padding: 1rem; }
  .hashes dt { float: none; width: auto; }
  .hashes dd { margin: 0 0 0.3rem 0; }
  .publisher-head, .hero { flex-wrap: wrap; }
  pre { max-width: 100%; overflow-x: auto; }
  .install { flex-wrap: wrap; }
  .install code { white-space: normal; overflow-wrap: anywhere; min-width: 0; }
  .hero > * { min-width: 0; max-width: 100%; }
  h1, h2 { overflow-wrap: anywhere; }
}
`;
