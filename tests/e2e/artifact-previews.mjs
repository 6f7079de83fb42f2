// Previews of React components and Mermaid diagrams in the bundled app: the fake model echoes a
// question holding three artifacts. The React one (a counter with a lucide-react icon, a
// recharts chart and Tailwind classes) is turned into a script by Babel and drawn by React in
// the sandbox, and clicking its button counts; the diagram is drawn by Mermaid; a component
// importing something the preview has not got says so plainly. The libraries come from the
// server's ARTIFACT_LIBRARIES_URL, here a mirror of the npm CDN the test runs
// (tests/support/npm_mirror.rs), which checks what was loaded. Shared, the component runs for
// a visitor without an account, and a Markdown document shows rendered by the server.
// Called by app.test.mjs.

const COUNTER = `import { useState } from "react";
import { Coffee } from "lucide-react";
import { LineChart, Line } from "recharts";

type Point = { v: number };

export default function Counter() {
  const [n, setN] = useState<number>(0);
  const data: Point[] = [{ v: 1 }, { v: 3 }, { v: 2 }];
  return (
    <div className="p-4">
      <Coffee aria-label="cup" />
      <button id="more" className="rounded bg-blue-600 px-2 text-white" onClick={() => setN(n + 1)}>Count: {n}</button>
      <LineChart width={200} height={100} data={data}><Line dataKey="v" isAnimationActive={false} /></LineChart>
    </div>
  );
}`;
const DIAGRAM = 'graph TD\n  A[Boil water] --> B[Steep the tea]';
const NEEDS_SHADCN = `import { Button } from "/components/ui/button";
export default function Shiny() { return <Button>Shiny</Button>; }`;

const artifact = (id, type, title, lang, code) => `:::artifact{identifier="${id}" type="${type}" title="${title}"}\n\`\`\`${lang}\n${code}\n\`\`\`\n:::`;
const NOTES = '# Tea notes\n\nSteep **green** tea for two minutes.';
const QUESTION = ['Draw these',
  artifact('counter', 'application/vnd.react', 'Counter', 'tsx', COUNTER),
  artifact('tea', 'application/vnd.mermaid', 'Tea steps', 'mermaid', DIAGRAM),
  artifact('shiny', 'application/vnd.react', 'Shiny', 'jsx', NEEDS_SHADCN),
  artifact('notes', 'text/markdown', 'Tea notes', 'markdown', NOTES)].join('\n');

// Loading Babel and Mermaid (3 and 6 MB) on a busy machine takes a while the first time.
const LOAD = { timeout: 90_000 };

export async function artifactPreviewSteps({ page, step, shots, send, lastAnswer, pickModel, newPage }) {
  const open = async (title) => {
    await lastAnswer(page).getByRole('button', { name: `Open artifact: ${title}` }).click();
    const panel = page.getByRole('complementary', { name: `Artifact: ${title}` });
    await panel.waitFor();
    if ((await panel.getByRole('button', { name: 'Preview' }).getAttribute('aria-pressed')) !== 'true') {
      throw new Error(`${title} does not open on its preview`);
    }
    return panel;
  };
  const frame = page.frameLocator('iframe.artifact-frame').frameLocator('iframe');

  await step('artifact previews: a React component runs, with lucide-react, recharts and Tailwind', async () => {
    await page.goto('c/new');
    await pickModel(page, 'gpt-4o');
    await send(page, QUESTION);
    await lastAnswer(page).getByText('Echo: Draw these').waitFor();
    await page.getByRole('button', { name: 'Send message' }).waitFor();
    await open('Counter');
    const button = frame.locator('#more');
    await button.waitFor(LOAD);
    if ((await button.textContent()) !== 'Count: 0') throw new Error(`the counter shows ${await button.textContent()}`);
    await button.click();
    await frame.locator('#more', { hasText: 'Count: 1' }).waitFor();
    await frame.locator('svg.lucide-coffee').waitFor();
    await frame.locator('.recharts-line').waitFor();
    // Tailwind's classes are styled: the button is no longer transparent.
    const background = await button.evaluate((b) => getComputedStyle(b).backgroundColor);
    if (/^(transparent|rgba\(0, 0, 0, 0\))$/.test(background)) throw new Error('Tailwind did not style the button');
    await shots(page, 'artifact-react');
  });

  await step('artifact previews: a Mermaid diagram is drawn', async () => {
    await open('Tea steps');
    await frame.locator('#root svg').waitFor(LOAD);
    await frame.getByText('Steep the tea').waitFor();
    await shots(page, 'artifact-mermaid');
  });

  await step('artifact previews: an import the preview has not got is named, not a blank frame', async () => {
    await open('Shiny');
    const error = frame.locator('#artifact-error');
    await error.waitFor(LOAD);
    const text = await error.textContent();
    if (!text.includes('cannot load "/components/ui/button"')) throw new Error(`the preview says: ${text}`);
    await page.getByRole('complementary', { name: 'Artifact: Shiny' }).getByRole('button', { name: 'Close artifact' }).click();
  });

  await step('artifact previews: shared, a React component runs and a document shows rendered', async () => {
    await page.locator('li.convo.active').getByRole('button', { name: /^Actions for / }).click();
    await page.getByRole('menuitem', { name: 'Share' }).click();
    const link = await page.getByLabel('Shared link').inputValue();
    await page.getByRole('dialog', { name: 'Share' }).getByRole('button', { name: 'Close', exact: true }).click();
    const visitor = await newPage();
    await visitor.goto(link);
    const shown = visitor.locator('article.msg.assistant');
    const openShared = async (title) => {
      await shown.getByRole('button', { name: `Open artifact: ${title}` }).click();
      return visitor.getByRole('complementary', { name: `Artifact: ${title}` });
    };
    await openShared('Counter');
    const inner = visitor.frameLocator('iframe.artifact-frame').frameLocator('iframe');
    await inner.locator('#more', { hasText: 'Count: 0' }).waitFor(LOAD);
    // The visitor cannot have Markdown rendered: the server sent the document rendered.
    const notes = await openShared('Tea notes');
    await notes.locator('.artifact-doc h1', { hasText: 'Tea notes' }).waitFor();
    await notes.locator('.artifact-doc strong', { hasText: 'green' }).waitFor();
    await shots(visitor, 'share-artifact-doc');
    await visitor.context().close();
  });
}
