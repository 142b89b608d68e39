// Entry point: loads the figure data once and starts each figure in its own placeholder.
// A figure that cannot start is replaced by a short message; the prose stays readable.
import { createScatter } from './scatter.js';

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

function fail(root, message, error) {
  console.error(error);
  if (!root) return;
  const p = document.createElement('p');
  p.className = 'figure-error';
  p.textContent = message;
  root.replaceChildren(p);
}

async function main() {
  const scatterRoot = document.querySelector('#pca-scatter');
  const explorerRoot = document.querySelector('#explorer');
  let figures, pca;
  try {
    [figures, pca] = await Promise.all([
      fetchOk('data/figure-data.json').then(r => r.json()),
      fetchOk('data/pca.bin').then(r => r.arrayBuffer()),
    ]);
  } catch (error) {
    const message = 'The data for this figure could not be loaded; the still image is shown to readers without JavaScript.';
    fail(scatterRoot, message, error);
    fail(explorerRoot, message, error);
    return;
  }
  try {
    createScatter(scatterRoot, { figures, pca });
  } catch (error) {
    fail(scatterRoot, 'The scatter plots could not be drawn in this browser.', error);
  }
  try {
    const { createExplorer } = await import('./explorer.js');
    await createExplorer(explorerRoot, { figures });
  } catch (error) {
    fail(explorerRoot, 'The latent explorer could not start in this browser. The rest of the article does not need it.', error);
  }
}

main();
