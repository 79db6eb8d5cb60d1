// The page: buttons, keys and the address bar in, the WebAssembly runtime's
// pixels out. All drawing happens in Rust (digits_web); this file only
// keeps the state and puts the RGBA bytes into the canvas.
import init, { Viewer, displaySize } from './digits_web.js';

const $ = (id) => document.getElementById(id);

// What is shown: the same four things as `simulator --png --display D
// --seed S --digit L --frame F`.
const state = { display: 'oled', seed: '1', digit: null, frame: 0 };
let viewer = null;
let modelSource = 'built-in model';
let draws = 0;

function readAddress() {
  const q = new URLSearchParams(location.search);
  if (q.has('display')) state.display = q.get('display');
  if (q.has('seed')) state.seed = q.get('seed');
  if (q.has('digit')) state.digit = q.get('digit');
  const frame = Number.parseInt(q.get('frame') ?? '0', 10);
  state.frame = Number.isFinite(frame) && frame >= 0 ? frame : 0;
}

function writeAddress() {
  const q = new URLSearchParams({ display: state.display, seed: state.seed });
  if (state.digit !== null) q.set('digit', state.digit);
  if (state.frame > 0) q.set('frame', String(state.frame));
  history.replaceState(null, '', `?${q}`);
}

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = !message;
}

// Draws the current state; on an error (bad seed, unknown digit) the last
// picture stays and the reason is shown.
function draw() {
  try {
    const [width, height] = displaySize(state.display);
    const t0 = performance.now();
    const rgba = viewer.render(state.display, state.seed, state.digit ?? undefined, state.frame);
    const ms = performance.now() - t0;
    const canvas = $('screen');
    canvas.width = width;
    canvas.height = height;
    const scale = width > 200 ? 2 : 4;
    canvas.style.width = `${width * scale}px`;
    canvas.style.height = `${height * scale}px`;
    canvas.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(rgba.buffer), width, height), 0, 0);
    draws += 1;
    const status = $('status');
    status.textContent = `${state.display} ${width}x${height} · seed ${state.seed} · frame ${state.frame} · `
      + `${state.digit === null ? 'any digit' : `digit ${state.digit}`} · drawn in ${ms.toFixed(1)} ms`;
    status.dataset.ms = ms.toFixed(3);
    document.body.dataset.draws = String(draws);
    showError('');
    writeAddress();
  } catch (e) {
    showError(e.message);
  }
  syncControls();
}

function syncControls() {
  for (const b of $('digits').children) {
    b.setAttribute('aria-pressed', String((b.dataset.digit ?? null) === state.digit));
  }
  $('seed').value = state.seed;
  $('display').value = state.display;
}

function buildDigitButtons() {
  const box = $('digits');
  box.replaceChildren();
  const add = (text, digit) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    if (digit !== null) b.dataset.digit = digit;
    b.addEventListener('click', () => ask(digit));
    box.append(b);
  };
  add('any', null);
  for (const label of viewer.labels()) add(label, label);
}

function ask(digit) {
  state.digit = digit;
  state.frame = 0;
  draw();
}

function setSeed(text) {
  state.seed = text.trim();
  state.frame = 0;
  draw();
}

function stepSeed(step) {
  try {
    const next = BigInt(state.seed) + BigInt(step);
    if (next >= 0n && next < 2n ** 64n) setSeed(next.toString());
  } catch {
    setSeed('1');
  }
}

// Draws with the model `next` from now on. A model the user switches to
// starts at frame 0; the first one keeps the frame the address asked for.
function useViewer(next, source) {
  const first = viewer === null;
  if (viewer) viewer.free();
  viewer = next;
  modelSource = source;
  const labels = viewer.labels();
  if (state.digit !== null && !labels.includes(state.digit)) state.digit = null;
  if (!first) state.frame = 0;
  $('model').textContent = `${modelSource}: ${viewer.describe()}`;
  buildDigitButtons();
  draw();
}

async function loadFile(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    useViewer(Viewer.fromBytes(bytes), file.name);
  } catch (e) {
    // The model in use stays; the runtime's reason is shown.
    showError(`${file.name}: ${e.message}`);
  }
}

function wire() {
  $('new').addEventListener('click', () => { state.frame += 1; draw(); });
  $('seed').addEventListener('change', (e) => setSeed(e.target.value));
  $('seed-prev').addEventListener('click', () => stepSeed(-1));
  $('seed-next').addEventListener('click', () => stepSeed(1));
  $('display').addEventListener('change', (e) => { state.display = e.target.value; draw(); });
  $('builtin').addEventListener('click', () => { $('model-file').value = ''; useViewer(Viewer.builtin(), 'built-in model'); });
  $('model-file').addEventListener('change', (e) => { if (e.target.files[0]) loadFile(e.target.files[0]); });
  document.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const key = e.key.toLowerCase();
    if (viewer.labels().includes(e.key)) ask(e.key);
    else if (key === 'a') ask(null);
    else if (key === 'n' || key === ' ') { state.frame += 1; draw(); }
    else if (key === 's') stepSeed(1);
    else return;
    e.preventDefault();
  });
}

async function main() {
  try {
    await init();
    readAddress();
    wire();
    useViewer(Viewer.builtin(), 'built-in model');
  } catch (e) {
    $('status').textContent = 'the WebAssembly module did not start';
    showError(String(e && e.message ? e.message : e));
  }
}

main();
