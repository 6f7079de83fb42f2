// Placeholder page: proves the server, its configuration and the embedded assets work together.
// The full chat interface replaces this file (see the web app issue); it keeps the same rules:
// ES modules, no build step, no inline code (the server's Content-Security-Policy forbids it).

const api = (path) => new URL(path, document.baseURI);

function show(text, isError = false) {
  const status = document.getElementById('status');
  status.textContent = text;
  status.classList.toggle('error', isError);
}

async function main() {
  try {
    const res = await fetch(api('api/config'), { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`the server answered ${res.status}`);
    const config = await res.json();
    const title = config.appTitle || 'LibreChat';
    document.title = title;
    document.getElementById('title').textContent = title;
    show('The server is running. The chat interface arrives in a coming release.');
    document.body.dataset.ready = 'true';
  } catch (err) {
    show(`Cannot reach the server: ${err.message}`, true);
  }
}

main();
