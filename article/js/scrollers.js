// Tables and display formulas wider than the screen scroll sideways inside their own box.
// While one does, it says so (a hint above it, through the data-scrolls attribute and the
// stylesheet) and can be scrolled from the keyboard: it takes focus as a named region.
const BOXES = '.table-wrap, .katex-display';

function labelOf(box) {
  if (box.matches('.katex-display')) return 'Formula';
  const table = box.querySelector('table');
  const caption = table?.caption?.textContent.trim().replace(/\s+/g, ' ').split('. ').slice(0, 2).join('. ');
  return table?.getAttribute('aria-label') ?? caption ?? 'Table';
}

function update(box, scrolls) {
  if (scrolls === box.hasAttribute('data-scrolls')) return;
  if (scrolls) {
    box.setAttribute('data-scrolls', '');
    box.tabIndex = 0;
    box.setAttribute('role', 'region');
    box.setAttribute('aria-label', `${labelOf(box)} (scrolls sideways)`);
  } else {
    for (const a of ['data-scrolls', 'tabindex', 'role', 'aria-label']) box.removeAttribute(a);
  }
}

// The observer reports each box once it is laid out (and again when it resizes): measuring
// here, before the first paint, would force a layout of the whole page in this task. Every box
// is measured before any is changed: measuring after a change would lay the page out again.
const observer = new ResizeObserver(entries => {
  const boxes = [...new Set(entries.map(e => e.target.closest(BOXES) ?? e.target))];
  const scrolls = boxes.map(box => box.scrollWidth > box.clientWidth + 1);
  boxes.forEach((box, i) => update(box, scrolls[i]));
});
for (const box of document.querySelectorAll(BOXES)) {
  observer.observe(box);
  const table = box.querySelector('table');
  if (table) observer.observe(table);        // a table that grows (images loading) may start to scroll
}

// The docked explorer's caption (style.css, .explorer-dock) scrolls up and down in what the
// screen leaves it; while it does, it takes focus so that the keyboard can scroll it too.
const TALL = '#fig-explorer > figcaption';
const tall = new ResizeObserver(entries => entries.forEach(({ target: box }) => {
  if (box.scrollHeight > box.clientHeight + 1) box.tabIndex = 0;
  else box.removeAttribute('tabindex');
}));
for (const box of document.querySelectorAll(TALL)) tall.observe(box);
