// The artifact sandbox page's script (see src/web/sandbox.rs). It takes an artifact from the
// page that framed it, and only from there, and shows it in the inner frame: `{html}` as it
// is, `{react}` (a component's source) or `{mermaid}` (a diagram's) in a page that loads the
// libraries it needs, each from the server's list with its integrity hash. A later message
// replaces it.
const LIBS = JSON.parse(document.getElementById('libraries').textContent);
const frame = document.querySelector('iframe');

const json = (v) => JSON.stringify(v).replace(/</g, '\\u003c');
const attr = (s) => String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
const tag = (lib) => `<script src="${attr(lib.src)}" integrity="${attr(lib.integrity)}" crossorigin="anonymous"><\/script>`;

/** A page that runs `main(...args)` once the libraries named by `names` are loaded. */
function page(names, main, args, style = '') {
  return `<!doctype html><html><head><meta charset="utf-8">${names.map((n) => tag(LIBS[n])).join('')}` +
    `<style>body{margin:0;font-family:system-ui,sans-serif}#artifact-error{margin:1rem;white-space:pre-wrap;color:#b91c1c}${style}</style>` +
    `</head><body><div id="root"></div><script>(${main})(${args.map(json).join(',')});<\/script></body></html>`;
}

/** Shows `e` in place of the artifact. */
function fail(e) {
  document.getElementById('root').replaceChildren();
  const p = document.getElementById('artifact-error') || document.body.appendChild(document.createElement('pre'));
  p.id = 'artifact-error';
  p.textContent = String((e && e.message) || e);
}

/**
 * Runs in the inner frame: turns the component's JSX/TypeScript into a CommonJS script with
 * Babel, loads the libraries it imports, and draws its default export with React.
 */
function runReact(source, optional, fail) {
  addEventListener('error', (e) => fail(e.error || e.message));
  if (typeof React === 'undefined' || typeof ReactDOM === 'undefined' || typeof Babel === 'undefined') {
    return fail('The preview\'s libraries could not be loaded (the server\'s ARTIFACT_LIBRARIES_URL).');
  }
  // lucide-react's browser build finds React as `react`.
  window.react = React;
  const modules = {
    react: () => React,
    'react-dom': () => ReactDOM,
    'react-dom/client': () => ReactDOM,
    'lucide-react': () => window.LucideReact,
    recharts: () => window.Recharts,
  };
  const load = (lib) => new Promise((ok, no) => {
    const s = document.createElement('script');
    s.src = lib.src;
    s.integrity = lib.integrity;
    s.crossOrigin = 'anonymous';
    s.onload = ok;
    s.onerror = () => no(new Error(`${lib.name} could not be loaded from ${lib.src}`));
    document.head.append(s);
  });
  (async () => {
    try {
      const { code } = Babel.transform(source, {
        filename: 'App.tsx',
        presets: [['typescript', { isTSX: true, allExtensions: true }], 'react'],
        plugins: ['transform-modules-commonjs'],
      });
      const names = [...new Set(Array.from(code.matchAll(/\brequire\("([^"]+)"\)/g), (m) => m[1]))];
      for (const name of names) {
        if (!modules[name]) {
          throw new Error(`This preview cannot load "${name}": only react, react-dom, lucide-react and recharts are available here. The component's code is under "Code".`);
        }
        for (const lib of optional[name] || []) await load(lib);
      }
      const module = { exports: {} };
      new Function('require', 'module', 'exports', code)((name) => modules[name](), module, module.exports);
      const App = module.exports.default || Object.values(module.exports).find((v) => typeof v === 'function');
      if (typeof App !== 'function') throw new Error('The component has no default export to show.');
      class Boundary extends React.Component {
        constructor(props) {
          super(props);
          this.state = { error: null };
        }
        static getDerivedStateFromError(error) {
          return { error };
        }
        render() {
          return this.state.error ? React.createElement('pre', { id: 'artifact-error' }, String(this.state.error.message || this.state.error)) : this.props.children;
        }
      }
      ReactDOM.createRoot(document.getElementById('root')).render(React.createElement(Boundary, null, React.createElement(App)));
    } catch (e) {
      fail(e);
    }
  })();
}

/** Runs in the inner frame: draws the diagram with Mermaid (its strict security level). */
function runMermaid(source, fail) {
  if (typeof mermaid === 'undefined') return fail('The preview\'s libraries could not be loaded (the server\'s ARTIFACT_LIBRARIES_URL).');
  mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
  mermaid.render('artifact-diagram', source)
    .then(({ svg }) => { document.getElementById('root').innerHTML = svg; })
    .catch(fail);
}

const OFF = '<!doctype html><meta charset="utf-8"><p style="font-family:system-ui,sans-serif;margin:1rem">' +
  'Previews of React components and Mermaid diagrams are off on this server. The code is under "Code".</p>';

addEventListener('message', (e) => {
  if (e.source !== parent || !e.data) return;
  const { html, react, mermaid } = e.data;
  if (typeof html === 'string') frame.srcdoc = html;
  else if (typeof react !== 'string' && typeof mermaid !== 'string') return;
  else if (!LIBS) frame.srcdoc = OFF;
  else if (typeof react === 'string') {
    const optional = { 'lucide-react': [LIBS['lucide-react']], recharts: [LIBS['prop-types'], LIBS.recharts] };
    frame.srcdoc = page(['tailwind', 'react', 'react-dom', 'babel'], `(s, o) => (${runReact})(s, o, ${fail})`, [react, optional]);
  } else {
    frame.srcdoc = page(['mermaid'], `(s) => (${runMermaid})(s, ${fail})`, [mermaid], '#root{display:grid;place-items:center;min-height:100vh}#root svg{max-width:100%}');
  }
});
