// "Draw your own": a canvas for a mouse, pen, finger or the keyboard. Each finished stroke
// (or Enter) hands the drawing to app.useDrawing, which frames it like MNIST, encodes it
// with both encoders and makes it an input; Clear starts a new drawing. One pointer draws
// at a time, the primary one (a second finger or a palm is ignored); a tap leaves a dot.

const HINT = 'Arrow keys move the pen, Space puts it down or lifts it, Enter uses the drawing, Escape clears.';
const STEPS = 20;                                 // keyboard pen steps across the pad

/**
 * @param {HTMLElement} root
 * @param {{data, useDrawing: (ink: Uint8ClampedArray, width: number, height: number, fresh: boolean) => void}} app
 */
export function createDrawpad(root, app) {
  const { framing } = app.data;
  const hintId = `${root.closest('[id]')?.id ?? 'pad'}-pad-hint`;
  root.innerHTML = `
    <div class="ex-pad-box">
      <canvas class="ex-pad" tabindex="0" aria-label="Canvas to draw your own input"
        aria-describedby="${hintId}"></canvas>
      <span class="ex-pad-pen" aria-hidden="true"></span>
      <span class="ex-pad-hint" aria-hidden="true">draw here</span>
    </div>
    <button type="button" class="ex-clear">Clear</button>
    <p class="ex-pad-note" role="status"></p>
    <p class="ex-pad-keys" id="${hintId}">${HINT}</p>`;
  const pad = root.querySelector('.ex-pad'), penMark = root.querySelector('.ex-pad-pen');
  const note = root.querySelector('.ex-pad-note');
  pad.width = pad.height = framing.drawing_size;
  const ink = pad.getContext('2d', { willReadFrequently: true });
  let fresh = true;                               // the next stroke starts a new drawing
  let stroke = null;                              // pointer id of the stroke being drawn
  const key = { x: pad.width / 2, y: pad.height / 2, down: false };

  function begin(px, py) {                        // a dot of the pen's width, where the stroke starts
    root.closest('.explorer')?.classList.add('ex-inked');
    note.textContent = '';
    Object.assign(ink, { lineWidth: framing.pen, lineCap: 'round', lineJoin: 'round', strokeStyle: '#000', fillStyle: '#000' });
    ink.beginPath();
    ink.arc(px, py, framing.pen / 2, 0, 2 * Math.PI);
    ink.fill();
    ink.beginPath();
    ink.moveTo(px, py);
  }
  function use() {
    const rgba = ink.getImageData(0, 0, pad.width, pad.height).data;
    const alpha = new Uint8ClampedArray(rgba.length / 4).map((_, k) => rgba[4 * k + 3]);
    if (!alpha.some(v => v)) {
      note.textContent = 'The pad is empty: draw something first.';
      return;
    }
    app.useDrawing(alpha, pad.width, pad.height, fresh);
    fresh = false;
  }
  function clear() {
    ink.clearRect(0, 0, pad.width, pad.height);
    root.closest('.explorer')?.classList.remove('ex-inked');
    note.textContent = '';
    fresh = true;
    key.down = false;
    showPen();
  }

  // mouse, pen and touch
  const at = e => {
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  };
  pad.addEventListener('pointerdown', e => {
    if (!e.isPrimary || stroke !== null || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    pad.setPointerCapture(e.pointerId);
    stroke = e.pointerId;
    begin(...at(e));
  });
  pad.addEventListener('pointermove', e => {
    if (stroke !== e.pointerId) return;
    for (const p of e.getCoalescedEvents?.() ?? [e]) ink.lineTo(...at(p));
    ink.stroke();
  });
  const end = e => {
    if (stroke !== e.pointerId) return;
    stroke = null;
    use();
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  pad.addEventListener('lostpointercapture', end);

  // the keyboard: a pen that moves in steps and draws while it is down
  function showPen() {
    penMark.hidden = !pad.matches(':focus-visible');
    penMark.style.left = `${(100 * key.x) / pad.width}%`;
    penMark.style.top = `${(100 * key.y) / pad.height}%`;
    penMark.classList.toggle('down', key.down);
  }
  pad.addEventListener('focus', () => {
    showPen();
    // reached from the keyboard, the pad comes into view at the screen's edge: its keys, under it,
    // come too (in the docked explorer, which scrolls inside itself and sticks, as far as it can)
    const keys = root.querySelector('.ex-pad-keys'), box = keys.getBoundingClientRect();
    if (pad.matches(':focus-visible') && (box.bottom > innerHeight || box.top < 0)) {
      keys.scrollIntoView({ block: 'nearest' });
    }
  });
  pad.addEventListener('blur', showPen);
  pad.addEventListener('keydown', e => {
    const step = pad.width / STEPS;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (e.key in moves) {
      const [dx, dy] = moves[e.key];
      key.x = Math.min(pad.width, Math.max(0, key.x + dx));
      key.y = Math.min(pad.height, Math.max(0, key.y + dy));
      if (key.down) {
        ink.lineTo(key.x, key.y);
        ink.stroke();
      }
    } else if (e.key === ' ') {
      key.down = !key.down;
      if (key.down) begin(key.x, key.y);
    } else if (e.key === 'Enter') {
      key.down = false;
      use();
    } else if (e.key === 'Escape') {
      clear();
    } else {
      return;
    }
    e.preventDefault();
    showPen();
  });
  root.querySelector('.ex-clear').addEventListener('click', clear);
  showPen();
}
