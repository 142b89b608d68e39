// Entry point of the article and of each figure's own page: loads the figure data once,
// creates the shared state, and starts every figure whose element with data-view="NAME" is
// on the page (the view is the default export of js/NAME.js, from figures/NAME/NAME.js).
// A figure that cannot start says why in its place; the prose stays readable.
//
// Loading order (the first screen paints first, then the first decoded image comes first):
// nothing heavy before the page's first paint; then the classic scripts (TF.js's parts and
// d3, listed by the page's <meta name="libraries">), the figure data and the VAE's decoder
// (with the wasm backend), the other decoder next, the encoders and the judge when something
// needs them, the map's points when the map comes near view. Each figure starts when it comes
// near view (`whenNear`), one per task, so that no start-up task holds the main thread for all
// of them.
import { createState, fromHash, hasState, restore, toHash } from './state.js';
import { WASM_BINARY, configure, encode, fetchFile, fetchJson, initBackend, loadModel, loadScript, siteUrl } from './models.js';
import { fromBase64 } from './digits.js';
import { frameLikeMnist } from './framing.js';

const BUILD = document.querySelector('meta[name="build"]')?.content || null;       // the build this page is from

/**
 * Says, once, at the top of the page, that the server now has files of another build than
 * this page's, and offers the new one (at an address no cache has seen).
 */
function siteUpdated(error) {
  if (document.querySelector('.site-updated')) return;
  const box = document.createElement('div');
  box.className = 'site-updated';
  box.setAttribute('role', 'alert');
  const p = box.appendChild(document.createElement('p'));
  p.textContent = 'This site was updated after this page was loaded, so its figures cannot run ' +
    `on the files the server now has (${error.path}). Load the new version to see them.`;
  const button = box.appendChild(document.createElement('button'));
  button.type = 'button';
  button.textContent = 'Load the new version';
  button.addEventListener('click', () => {
    const url = new URL(location.href);
    url.searchParams.set('fresh', Date.now().toString(36));
    location.assign(url);
  });
  document.body.prepend(box);
}

function say(root, message, className = 'figure-loading') {
  const p = document.createElement('p');
  p.className = className;
  p.textContent = message;
  root.replaceChildren(p);
}

/** Lazily loaded, checked models by name ('vae-decoder', 'judge', ...). */
function createNets(data) {
  const loaded = {};
  return {
    get: name => loadModel(name, data.probes[name]).then(model => (loaded[name] = model), error => {
      if (error.updated) siteUpdated(error);
      throw error;
    }),
    now: name => loaded[name] ?? null,
  };
}

function createApp(data) {
  data.inputs.forEach(d => { d.pixels = fromBase64(d.pixels); });
  const state = createState(data);
  const nets = createNets(data);
  const events = d3.dispatch('drawing');          // (status: 'reading' | 'done' | 'error', error)
  let drawings = 0, drawing = null, family = null;
  // The last interaction wins: a result that arrives late (a drawing read by encoders
  // still loading, a model switch) moves the code only if nothing else moved it meanwhile.
  let turns = 0, drawnAt = -1;
  state.on('latent.turns', () => turns++).on('model.turns', () => turns++);

  /** Each model's code (and log-variance) of an image (floats in [0, 1]), for `names`. */
  async function encodeAll(floats, names) {
    const encoders = await Promise.all(names.map(m => nets.get(`${m}-encoder`)));
    return names.map((m, k) => [m, encode(encoders[k], floats, data.latent_dim)]);
  }
  function keep(d, read) {                        // codes (and log-variances) into an input
    for (const [m, c] of read) {
      d.codes[m] = c.mean;
      if (c.logvar) d.logvar[m] = c.logvar;
    }
  }

  const app = {
    state, data, nets, events, decoded: null,
    backend: () => initBackend(),   // resolves to {name, reason?}
    loadPoints: () => fetchFile(data.pca.file),
    /**
     * Shows another model and keeps the picture: the code becomes `code` if given, else the
     * new model's code of what is on screen (an input's own code when the line sits on an
     * input, otherwise the new encoder's code of the decoded image).
     */
    async switchModel(name, code) {
      if (name === state.model) return code && state.setLatent(code, 'map');
      const before = turns;
      if (!code && state.t === null) {
        const on = state.selected.map(s => state.input(s.id))
          .find(d => d.codes[state.model].every((v, i) => Math.abs(v - state.z[i]) < 1e-9));
        if (on) code = on.codes[name];
        else if (app.decoded && app.decoded.model === state.model) {
          code = encode(await nets.get(`${name}-encoder`), app.decoded.pixels, data.latent_dim).mean;
        }
      }
      if (turns === before) state.setModel(name, code);
    },
    /**
     * A drawing from the pad: framed like MNIST, encoded by every encoder, made an input.
     * Never rejects: what goes wrong is told through events ('drawing').
     */
    async useDrawing(ink, width, height, fresh) {
      const pixels = frameLikeMnist(ink, width, height, { ...data.framing, image_size: data.image_size });
      if (!pixels) return;
      const floats = Float32Array.from(pixels, v => v / 255);
      const before = turns;
      let read;
      events.call('drawing', null, 'reading');
      try {
        read = await encodeAll(floats, Object.keys(data.models));
      } catch (error) {
        events.call('drawing', null, 'error', error);
        return;
      }
      events.call('drawing', null, 'done');
      if (!read.every(([, c]) => c.mean.every(Number.isFinite))) return;
      if (fresh || !drawing) drawing = { id: `drawing-${++drawings}`, name: `drawing ${drawings}`, kind: 'drawn' };
      Object.assign(drawing, { pixels, floats, codes: {}, logvar: {} });
      keep(drawing, read);
      state.addInput({ ...drawing });
      state.select(drawing.id, true);
      if (turns === before || turns === drawnAt) {   // only the drawing's own earlier strokes moved the code
        state.snap(drawing.id);
        drawnAt = turns;
      }
    },
    /**
     * The VAEs trained with other betas (data/betas.json), fetched once: their summaries
     * join data.models, their codes the inputs (drawings are encoded now), their probes
     * the checks of their files.
     */
    loadBetas() {
      family ??= fetchJson(data.betas.file).then(async extra => {
        Object.assign(data.probes, extra.probes);
        const names = Object.keys(extra.models);
        for (const d of state.inputs) {
          const known = extra.inputs[d.id];
          if (known) keep(d, names.map(m => [m, { mean: known.codes[m], logvar: known.logvar[m] }]));
        }
        const missing = () => state.inputs.filter(d => d.kind === 'drawn' && names.some(m => !d.codes[m]));
        for (let todo = missing(); todo.length; todo = missing()) {   // drawings, even ones made meanwhile
          const reads = await Promise.all(todo.map(d => encodeAll(d.floats, names)));
          todo.forEach((d, k) => keep(d, reads[k]));
        }
        Object.assign(data.models, extra.models);  // the explorer can show them; new drawings use them too
      }).catch(error => {
        family = null;
        if (error.updated) siteUpdated(error);
        throw error;
      });
      return family;
    },
    /** Shows the VAE named `name` (the main one or one of the beta family). */
    async showVae(name) {
      if (!data.model_order.includes(name)) await app.loadBetas();
      await app.switchModel(name);
    },
  };
  return app;
}

/**
 * The URL's fragment holds the shareable state. It is applied at load (the first input on
 * the VAE without one) and whenever it changes under the page: edited by hand, by a link, by
 * Back and Forward. A fragment that says nothing of the state (a link to a section) is left
 * to the browser. The page writes its state back after a pause: a change of the model or of
 * the selected inputs makes a new history entry, codes and positions (drags, keys, dice)
 * replace the current one.
 */
function linkUrl(app) {
  const { state, data } = app;
  const fallback = { model: data.model_order[0], inputs: data.inputs.slice(0, 1).map(d => d.id) };
  let applying = false, timer = 0, push = false, known = null;   // known: the fragment the state shows
  const quietly = fn => { applying = true; try { fn(); } finally { applying = false; } };

  function apply() {
    const hash = location.hash;
    if (hash === known) return;                  // e.g. hashchange after popstate, for one step
    const saved = fromHash(hash, data);
    if (known !== null && hash.length > 1 && !hasState(saved)) return;
    known = hash;
    clearTimeout(timer);
    push = false;
    quietly(() => restore(state, hasState(saved) ? saved : fallback));
    if (saved.model && !(saved.model in data.models)) {      // one of the beta family: load it, then again
      const before = state.z;                                // unless the reader moved on meanwhile
      app.loadBetas().then(() => { if (location.hash === hash && state.z === before) quietly(() => restore(state, saved)); })
        .catch(error => console.warn(error));
    }
  }
  const write = kind => () => {
    if (applying) return;
    push ||= kind === 'model' || kind === 'inputs';
    clearTimeout(timer);
    timer = setTimeout(() => {
      const hash = `#${toHash(state)}`;
      if (hash !== location.hash) history[push ? 'pushState' : 'replaceState'](null, '', hash);
      known = location.hash;
      push = false;
    }, 250);
  };
  apply();
  for (const kind of ['latent', 'model', 'inputs', 'interp']) state.on(`${kind}.url`, write(kind));
  addEventListener('hashchange', apply);
  addEventListener('popstate', apply);
}

/**
 * Scrolls `target()` (the element to show) to the top of the screen (smoothly unless `behavior`
 * says otherwise) and keeps it there. On the way, and for a few seconds after, what lies above it
 * or the target itself may change height (a figure that starts as it comes near view, a section
 * laid out only then: style.css) and move it; so whenever nothing has moved for a fifth of a
 * second, the target is put in its place again, at once (at most ten times). The reader's own
 * scrolling, touch or key ends this, and so does Back or Forward, and the next call. With `at`
 * (px from the top of the screen), the target's top is held there instead of at the top.
 */
let stopStaying = () => {};
function scrollToStay(target, behavior = 'smooth', at = null) {
  stopStaying();
  const place = (el, how) => (at === null ? el.scrollIntoView({ behavior: how, block: 'start' })
    : scrollBy({ top: el.getBoundingClientRect().top - at, behavior: how }));
  place(target(), behavior);
  let last = '', still = 0, tries = 0, stopped = false;
  const until = performance.now() + 4000;       // the figures near the target start within this
  const inputs = ['wheel', 'touchstart', 'pointerdown', 'keydown'];
  const stop = () => { stopped = true; inputs.forEach(type => removeEventListener(type, stop, true)); };
  inputs.forEach(type => addEventListener(type, stop, { capture: true, passive: true }));
  stopStaying = stop;
  const watch = () => {
    if (stopped) return;
    const el = target(), top = el.getBoundingClientRect().top, now = `${scrollY} ${top}`;   // the scrolling, and what moves it
    still = now === last ? still + 1 : 0;
    last = now;
    if (still === 12) {                          // settled: in place again, if it moved
      place(el, 'instant');
      if (el.getBoundingClientRect().top !== top && ++tries >= 10) return stop();
    }
    if (still >= 12 && performance.now() > until) return stop();
    requestAnimationFrame(watch);
  };
  requestAnimationFrame(watch);
}

/** Resolves with the explorer's root once it has drawn its first decode. */
function explorerReady() {
  const root = document.getElementById('explorer');
  return new Promise(resolve => {
    if (!root || root.dataset.ready === 'true') return resolve(root);
    const watch = new MutationObserver(() => {
      if (root.dataset.ready !== 'true') return;
      watch.disconnect();
      resolve(root);
    });
    watch.observe(root, { attributes: true, attributeFilter: ['data-ready'] });
  });
}

/** The prose's "Show me" buttons: each sets the explorer's state from its fragment, as a link
 * to it would (one history entry; Back returns to the step), and brings the explorer into view
 * (where it is taller than the screen, its decoded images and axes); one with data-press then
 * presses the explorer's button of that name (the dice), one with data-focus focuses what it
 * names (the drawing pad), and one with data-show brings that part into view too (`shownPart`). */
function showMe(app) {
  for (const button of document.querySelectorAll('button.show-me[data-state]')) {
    button.hidden = false;
    button.addEventListener('click', () => {
      const hash = `#${button.dataset.state}`, { press, focus } = button.dataset;
      if (press || focus) {                      // once the state is applied (linkUrl listens first) and the explorer runs
        const applied = location.hash === hash ? null
          : new Promise(resolve => addEventListener('hashchange', resolve, { once: true }));
        Promise.all([applied, explorerReady()]).then(([, root]) => {
          if (press) root?.querySelector(`button[aria-label="${CSS.escape(press)}"]`)?.click();
          if (focus) root?.querySelector(focus)?.focus({ preventScroll: true });
        });
      }
      if (location.hash === hash) restore(app.state, fromHash(hash, app.data));   // again: no hashchange
      else location.hash = hash;                 // one history entry, applied by linkUrl
      const figure = document.getElementById('fig-explorer'), box = figure?.getBoundingClientRect();
      // docked beside the steps (wide screens), it may be in view already: the reader stays at the step
      const inView = box && getComputedStyle(figure).position === 'sticky' && box.top >= 0 && box.bottom <= innerHeight;
      if (!figure || inView) return;
      // taller than the screen (one column, on a phone): its decoded images and axes, not its inputs
      // (asked again on the way: a figure far away starts, and grows, as it comes near). Smoothly
      // only to an explorer that has started: one that has not grows as it starts, and a smooth
      // scroll towards it glided for a second to where it had been, then jumped
      const started = figure.querySelector('#explorer')?.dataset.ready === 'true';
      scrollToStay(() => (figure.offsetHeight > innerHeight && shownPart(figure, button.dataset.show)) || figure,
        started ? 'smooth' : 'instant');
      offerWayBack(button, figure);
    });
  }
}

/**
 * What a "Show me" scrolls to the top of the screen in an explorer taller than the screen: its
 * decoded images and axes (.ex-front) and, for a step about another part (data-show: the drawing
 * pad, the interpolation slider, the dice's buttons), that part too: the upper of the two, where both fit on the
 * screen above the way back to the step (SHOW_ROOM px), else that part alone.
 */
const SHOW_ROOM = 80;
function shownPart(figure, selector) {
  const front = figure.querySelector('.ex-front'), part = selector && figure.querySelector(selector);
  if (!part || !part.getClientRects().length) return front;
  const a = front?.getBoundingClientRect(), b = part.getBoundingClientRect();
  if (!a) return part;
  const fits = Math.max(a.bottom, b.bottom) - Math.min(a.top, b.top) <= innerHeight - SHOW_ROOM;
  return fits ? (a.top <= b.top ? front : part) : part;
}

/**
 * After a "Show me" that scrolled away from its step, a button at the foot of the screen takes the
 * reader back to that step (and its button, focused), so that working through the steps on a phone
 * is not several screens of scrolling each way. It shows while the explorer is on the screen and
 * the step is not, and goes for good once the step is in view again.
 */
let stepSeen = null;                             // watches the step last left by a "Show me", and the explorer
function offerWayBack(step, figure) {
  const back = document.querySelector('.back-to-step') ?? document.body.appendChild(Object.assign(
    document.createElement('button'), { type: 'button', className: 'back-to-step', hidden: true }));
  const name = step.getAttribute('aria-label')?.replace(/^Show me:\s*/, '') ?? '';
  const arrow = Object.assign(document.createElement('span'), { textContent: '\u2193 ', ariaHidden: 'true' });
  back.replaceChildren(arrow, `Back to the step${name ? `: ${name}` : ''}`);
  back.onclick = () => {
    back.hidden = true;
    step.scrollIntoView({ behavior: 'smooth', block: 'center' });
    step.focus({ preventScroll: true });
  };
  stepSeen?.disconnect();
  const seen = new Map();
  let away = false;                              // once the step has left the screen
  stepSeen = new IntersectionObserver(entries => {
    for (const entry of entries) seen.set(entry.target, entry.isIntersecting);
    away ||= !seen.get(step);
    back.hidden = !away || seen.get(step) || !seen.get(figure);
    if (away && seen.get(step)) stepSeen.disconnect();
  });
  stepSeen.observe(step);
  stepSeen.observe(figure);
}

// A link into the article lands on its target and keeps it in place while the sections above it
// are laid out (style.css) and the pictures above get their sizes. A section laid out without a
// box of its own (display: contents, as in the explorer's dock on wide screens) gives a link to it
// nowhere to scroll: its first child stands in.
function landOnTarget() {
  let target = null;
  try { target = document.getElementById(decodeURIComponent(location.hash.slice(1))); } catch { return; }
  if (target && getComputedStyle(target).display === 'contents') target = target.firstElementChild;
  if (target) scrollToStay(() => target, 'instant');
}
// Back and Forward return the reader to where they were reading when they left that entry: each
// navigation in the page first notes, in the entry it leaves (the Navigation API's state), which
// block of the article was at the top of the screen and where; a traversal puts that block back
// there and holds it while what lies above settles. (Chromium, left to itself, scrolls an entry
// whose fragment names an element to that element, wherever the reader had scrolled on from it.)
// Without the Navigation API, or without a note, Back and Forward at an address whose fragment
// names an element land on that element, as a link does; elsewhere the browser restores the place.
const BLOCKS = '.d-article > *, .explorer-dock > section, .d-article > section > *, .explorer-dock > section > *';
function readingPlace() {
  const blocks = [...document.querySelectorAll(BLOCKS)], listed = new Set(blocks);
  // an element's children, with those that have no box of their own (display: contents) replaced by theirs
  const children = el => [...el.children].flatMap(k => (getComputedStyle(k).display === 'contents' ? children(k) : [k]));
  let among = children(document.querySelector('.d-article')), found = null;
  for (;;) {                                     // down from the article: the first block still on the screen
    const next = among.find(el => listed.has(el) && getComputedStyle(el).position !== 'sticky'
      && el.getBoundingClientRect().bottom > 0);
    if (!next) break;
    found = next;
    if (!next.matches('.d-article > section, .explorer-dock, .explorer-dock > section')) break;
    among = children(next);
  }
  return found && { block: blocks.indexOf(found), top: found.getBoundingClientRect().top };
}
let returning = null;                            // the place a traversal returns to, until it has
function returnTo() {
  if (!returning) return landOnTarget();
  const el = document.querySelectorAll(BLOCKS)[returning.block];
  if (el) scrollToStay(() => el, 'instant', returning.top);
}
window.navigation?.addEventListener('navigate', event => {
  // a replace (the explorer writing its state after a drag) leaves no entry behind, and resets its state
  if (event.navigationType !== 'replace') {
    try { navigation.updateCurrentEntry({ state: { ...navigation.currentEntry.getState(), place: readingPlace() } }); } catch { /* no state here */ }
  }
  returning = event.navigationType === 'traverse' ? event.destination.getState()?.place ?? null : null;
  if (returning || event.navigationType === 'traverse') stopStaying();
});
addEventListener('popstate', () => returning && returnTo());
addEventListener('hashchange', returnTo);
landOnTarget();

// A section that skips its layout until near view (content-visibility: auto, style.css) becomes a
// possible scroll anchor once it has been laid out: `.seen`. The sections laid out before this
// module ran are found, once the first screen has painted (when asking costs no layout of its
// own), by whether their content is rendered.
addEventListener('contentvisibilityautostatechange', event => event.skipped || event.target.classList.add('seen'), true);
function markSeen() {
  for (const section of document.querySelectorAll('.d-article > section:not(.seen)')) {
    if (section.firstElementChild?.checkVisibility?.({ contentVisibilityAuto: true })) section.classList.add('seen');
  }
}

// On paper the maps print their still (their points load only near view): lazy stills load now.
const eager = () => document.querySelectorAll('img[loading="lazy"]').forEach(img => { img.loading = 'eager'; });
addEventListener('beforeprint', eager);
matchMedia('print').addEventListener('change', event => event.matches && eager());

/**
 * Resolves once the page has painted its first content (its first-contentful-paint entry; a
 * requestAnimationFrame comes before that, for a frame that may show nothing yet), at once in a
 * hidden tab, which paints nothing, and after 3 s in a browser that never says.
 */
function afterPaint() {
  return new Promise(resolve => {
    if (document.visibilityState === 'hidden') return resolve();
    let observer = null;
    const done = () => { clearTimeout(timer); observer?.disconnect(); setTimeout(resolve, 0); };
    const timer = setTimeout(done, 3000);
    try {
      observer = new PerformanceObserver(list => list.getEntriesByName('first-contentful-paint').length && done());
      observer.observe({ type: 'paint', buffered: true });
    } catch {
      requestAnimationFrame(() => setTimeout(done, 0));
    }
  });
}

/**
 * Has the browser fetch now, all at once, files that start-up asks for only later, each after
 * the one before it has arrived and run: the WebAssembly backend's binary (asked for once TF.js
 * has run), the figures' views (once d3 has) and the first decoder (once the backend is ready).
 * Each becomes a <link rel="preload"> (for a view, "modulepreload") with the URL and the mode of
 * the request it stands in for, which the browser then answers from what it fetched.
 */
function fetchEarly(paths) {
  for (const path of paths) {
    const link = document.createElement('link');
    if (path.endsWith('.js')) link.rel = 'modulepreload';
    else Object.assign(link, { rel: 'preload', as: 'fetch', crossOrigin: 'anonymous' });
    link.href = siteUrl(path);
    document.head.append(link);
  }
}

/** Lets the browser handle input and paint between two pieces of start-up work. */
const nextTask = () => new Promise(resolve => setTimeout(resolve, 0));

/**
 * Loads the page's classic scripts (<meta name="libraries">: TF.js's parts, d3), all fetched
 * at once and run in their order, each in its own task. Returns one promise per script.
 */
function loadLibraries() {
  const names = (document.querySelector('meta[name="libraries"]')?.content ?? '').split(/\s+/).filter(Boolean);
  return Object.fromEntries(names.map(path => [path.split('/').pop(), loadScript(path, { inOrder: true })]));
}

async function main() {
  const roots = [...document.querySelectorAll('[data-view]')];
  for (const root of roots) if (!root.childElementCount) say(root, 'Loading the figure…');   // not over markup in the page
  configure({ build: BUILD });
  await afterPaint();                            // the first screen first: nothing heavy before it
  markSeen();
  const libraries = loadLibraries();
  const dataFetch = fetchJson('data/figure-data.json');
  dataFetch.then(data => fetchEarly([           // alongside the libraries
    WASM_BINARY, ...new Set(roots.map(root => `js/${root.dataset.view}.js`)),
    ...Object.keys(data.files).filter(path => path.startsWith(`models/${data.model_order[0]}-decoder/`))]))
    .catch(() => {});                            // a failure is reported below, where the data is needed
  const all = Promise.all(Object.values(libraries));
  const tfReady = libraries['tf-backend-wasm.min.js'] ?? all;
  if (roots.length) tfReady.then(() => initBackend(), () => {});   // compile the wasm while the rest arrives
  const version = BUILD ? `?v=${BUILD}` : '';
  const views = roots.map(root => all.then(() => import(`./${root.dataset.view}.js${version}`))   // d3 first
    .then(m => m.default, error => () => { throw error; }));   // a view that cannot load fails in its place
  let data;
  try {
    [data] = await Promise.all([dataFetch, all]);
  } catch (error) {
    console.error(error);
    if (error.updated) siteUpdated(error);
    for (const root of roots) say(root, `${error.message} The figure cannot start.`, 'figure-error');
    return;
  }
  configure({ build: BUILD, files: data.files });
  await nextTask();                              // d3 has just run in this task: a slow phone's main thread
  const app = createApp(data);                   // stays free for input between the pieces of start-up
  app.nets.get(`${data.model_order[0]}-decoder`)
    .then(() => app.nets.get(`${data.model_order[1]}-decoder`)).catch(() => {});
  await nextTask();
  linkUrl(app);
  showMe(app);
  window.latentExplorer = app;                   // for the curious, and for tests
  whenNear(roots, async root => {
    try {
      (await views[roots.indexOf(root)])(root, app);
      root.closest('figure')?.classList.add('figure-started');   // its still, shown until now, goes
    } catch (error) {
      console.error(error);
      say(root, `This figure could not start in this browser (${error.message}). The rest of the article does not need it.`,
        'figure-error');
    }
  });
}

// How near the screen a figure starts (px): farther than Chromium fetches a lazy image (1,250 px,
// 2,500 px on slow connections), so that a figure's still, shown until the figure starts, is not
// fetched as well when the figure is about to replace it.
const NEAR = 2600;

/**
 * Runs `start(root)` for each figure's root once its figure comes within NEAR pixels of the
 * screen, one figure per task, in the page's order: the figures below the first screen
 * start as the reader scrolls towards them, not all while a slow phone is still busy with the
 * first screen (each start is tens of milliseconds of main thread on such a phone).
 */
function whenNear(roots, start) {
  const queue = [];
  let busy = false;
  const box = root => root.closest('figure') ?? root;
  const observer = new IntersectionObserver(entries => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      observer.unobserve(entry.target);
      queue.push(roots.find(root => box(root) === entry.target));
    }
    queue.sort((a, b) => roots.indexOf(a) - roots.indexOf(b));
    pump();
  }, { rootMargin: `${NEAR}px 0px` });
  async function pump() {
    if (busy) return;
    busy = true;
    while (queue.length) {
      await nextTask();                          // one figure per task
      await start(queue.shift());
    }
    busy = false;
  }
  for (const root of roots) observer.observe(box(root));
}

main();
