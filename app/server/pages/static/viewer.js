// The 3D viewer: the job's simulated and reference motions, played from the same skinned GLB files
// the job exports (a SkinnedMesh on a skeleton each), side by side, with a timeline (play/pause and a
// range input bound to the clip's time) and a camera that keeps both characters in view.
//
// The page needs <canvas id="viewer"> (and may have an element #error for messages). The controls
// #play, #timeline and #clock are used if the page has them; otherwise they are made in a
// <div class="viewer-controls"> right after the canvas.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";

const SAMPLE = 0.1;   // s between the poses sampled for framing
const WINDOW = 1.0;   // s: at time t the camera frames both characters over [t - WINDOW, t + WINDOW]
const SIDE = 1.2;     // m between the two characters, across their direction of travel
const MARGIN = 0.3;   // m around the joints (body radius, head and feet beyond their joints)
const AZIMUTH = 0.5;  // rad the camera turns from the side view toward the direction of travel
const ELEVATION = 0.25; // rad above the horizon

// One exported character: its scene under a holder (side offset, and cycle offset for a looping clip),
// its mixer, and the points the camera frames (the skeleton's bones).
async function loadCharacter(loader, url, colour) {
  const gltf = await loader.loadAsync(url);
  const clip = gltf.animations[0];
  if (!clip) throw new Error(`${url}: no animation`);
  let skinned = null;
  gltf.scene.traverse((o) => {
    if (!o.isMesh) return;
    o.material = new THREE.MeshStandardMaterial({ color: colour, roughness: 0.7 });
    o.frustumCulled = false;  // a skinned mesh's bounds are those of its first pose; the character walks away from them
    if (o.isSkinnedMesh && !skinned) skinned = o;
  });
  const points = skinned ? skinned.skeleton.bones : [];
  if (!skinned) gltf.scene.traverse((o) => { if (!o.isMesh && o !== gltf.scene) points.push(o); });  // a rigid export
  const extras = ((gltf.parser.json.animations || [])[0] || {}).extras || {};
  const shift = new THREE.Vector3();
  const rootTrack = clip.tracks.find((t) => t.name.endsWith(".position"));
  if (extras.loop === "wrap" && rootTrack) {  // each repeat of a cycle goes on from where the last ended
    const v = rootTrack.values, n = v.length;
    shift.set(v[n - 3] - v[0], 0, v[n - 1] - v[2]);
  }
  const holder = new THREE.Group();
  holder.add(gltf.scene);
  const mixer = new THREE.AnimationMixer(gltf.scene);
  mixer.clipAction(clip).play();
  return { holder, mixer, points, skinned, duration: clip.duration, wrap: extras.loop === "wrap", shift, side: new THREE.Vector3() };
}

// Pose character c at time t (s) of the viewer's clip.
function pose(c, t) {
  let local = Math.min(t, c.duration - 1e-4), cycle = 0;  // a repeating action at its very end would show its start
  if (c.wrap && c.duration > 0) { cycle = Math.floor(t / c.duration); local = t - cycle * c.duration; }
  c.holder.position.copy(c.side).addScaledVector(c.shift, cycle);
  c.mixer.setTime(local);
  c.holder.updateMatrixWorld(true);
}

// A floor of 1 m squares, drawn as a texture: long grid lines that pass behind the camera are lost by
// some WebGL implementations (headless Chromium's software renderer among them).
function floorTexture(renderer) {
  const c = document.createElement("canvas"); c.width = c.height = 128;
  const g = c.getContext("2d");
  g.fillStyle = "#e2e4ee"; g.fillRect(0, 0, 128, 128);
  g.strokeStyle = "#a9adc2"; g.lineWidth = 4; g.strokeRect(0, 0, 128, 128);
  const texture = new THREE.CanvasTexture(c);
  texture.wrapS = texture.wrapT = THREE.RepeatWrapping; texture.repeat.set(100, 100);
  texture.colorSpace = THREE.SRGBColorSpace; texture.anisotropy = renderer.capabilities.getMaxAnisotropy();
  return texture;
}

// The camera target and distance that show every point (with MARGIN around it), looking along forward.
function fit(points, forward, right, up, tanV, tanH) {
  const centre = new THREE.Box3().setFromPoints(points).getCenter(new THREE.Vector3()), q = new THREE.Vector3();
  let distance = 1.5;
  for (const p of points) {
    const depth = q.subVectors(p, centre).dot(forward);
    distance = Math.max(distance, (Math.abs(q.dot(right)) + MARGIN) / tanH - depth, (Math.abs(q.dot(up)) + MARGIN) / tanV - depth);
  }
  return { centre, distance };
}

function controls(canvas) {
  let play = document.getElementById("play"), timeline = document.getElementById("timeline"), clock = document.getElementById("clock");
  if (play && timeline && clock) return { play, timeline, clock };
  const bar = document.createElement("div");
  bar.className = "viewer-controls";
  play = document.createElement("button"); play.id = "play"; play.type = "button";
  timeline = document.createElement("input"); timeline.id = "timeline"; timeline.type = "range";
  timeline.setAttribute("aria-label", "time in the clip");
  clock = document.createElement("output"); clock.id = "clock";
  bar.append(play, timeline, clock);
  canvas.after(bar);
  return { play, timeline, clock };
}

async function startViewer(simUrl, refUrl) {
  const canvas = document.getElementById("viewer");
  const aspect = canvas.width / canvas.height;  // the page's canvas shape; its width follows the layout
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0xeeeeff);
  const camera = new THREE.PerspectiveCamera(40, aspect, 0.05, 500);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x888888, 2.5));
  const sun = new THREE.DirectionalLight(0xffffff, 1.5); sun.position.set(3, 5, 2); scene.add(sun);
  const loader = new GLTFLoader();
  const [sim, ref] = await Promise.all([loadCharacter(loader, simUrl, 0xe88a33), loadCharacter(loader, refUrl, 0x8cb8f0)]);
  const characters = [sim, ref];
  for (const c of characters) scene.add(c.holder);
  const duration = Math.max(sim.duration, ref.wrap ? 0 : ref.duration);  // a looping reference repeats for the whole simulation

  // Direction of travel of the simulated character (x if it stays in place); the reference goes beside it.
  const start = new THREE.Vector3(), end = new THREE.Vector3();
  pose(sim, 0); sim.points[0].getWorldPosition(start);
  pose(sim, duration); sim.points[0].getWorldPosition(end);
  const travel = end.sub(start).setY(0);
  if (travel.length() < 0.3) travel.set(1, 0, 0);
  travel.normalize();
  const up = new THREE.Vector3(0, 1, 0), across = new THREE.Vector3().crossVectors(up, travel);
  ref.side.copy(across).multiplyScalar(SIDE);
  const horizontal = across.clone().multiplyScalar(-Math.cos(AZIMUTH)).addScaledVector(travel, Math.sin(AZIMUTH));
  const forward = horizontal.multiplyScalar(-Math.cos(ELEVATION)).addScaledVector(up, -Math.sin(ELEVATION)).normalize();
  const right = new THREE.Vector3().crossVectors(forward, up).normalize(), camUp = new THREE.Vector3().crossVectors(right, forward);

  // Both characters' joints at every sampled time, then for each sample the view of its window.
  const count = Math.max(1, Math.ceil(duration / SAMPLE)) + 1;
  const joints = [];
  for (let i = 0; i < count; i++) {
    const t = Math.min(i * SAMPLE, duration);
    joints.push(characters.flatMap((c) => { pose(c, t); return c.points.map((b) => b.getWorldPosition(new THREE.Vector3())); }));
  }
  const middle = new THREE.Box3().setFromPoints(joints.flat()).getCenter(new THREE.Vector3());
  const floor = new THREE.Mesh(new THREE.PlaneGeometry(100, 100).rotateX(-Math.PI / 2), new THREE.MeshBasicMaterial({ map: floorTexture(renderer) }));
  floor.position.set(Math.round(middle.x), 0, Math.round(middle.z)); scene.add(floor);
  let views = [];
  function frameAll() {
    const tanV = Math.tan(THREE.MathUtils.degToRad(camera.fov / 2)), tanH = tanV * camera.aspect, half = Math.round(WINDOW / SAMPLE);
    views = joints.map((_, i) => fit(joints.slice(Math.max(0, i - half), i + half + 1).flat(), forward, right, camUp, tanV, tanH));
  }
  let dirty = true;  // something other than the time changed: draw again even when paused
  function resize() {
    dirty = true;
    const width = canvas.clientWidth || canvas.width, height = Math.round(width / aspect);
    renderer.setSize(width, height, false);
    camera.aspect = width / height; camera.updateProjectionMatrix();
    frameAll();
  }
  resize();
  new ResizeObserver(resize).observe(canvas);

  const ui = controls(canvas);
  ui.timeline.min = 0; ui.timeline.max = duration; ui.timeline.step = 0.01;
  let t = 0, playing = true, last = performance.now();
  const showPlaying = () => {
    ui.play.textContent = playing ? "pause" : "play"; ui.play.setAttribute("aria-pressed", String(playing));
    if (window.viewerState) window.viewerState.playing = playing;
  };
  ui.play.onclick = () => { playing = !playing; if (playing && t >= duration) t = 0; showPlaying(); dirty = true; };
  ui.timeline.oninput = () => { t = Number(ui.timeline.value); playing = false; showPlaying(); dirty = true; };
  showPlaying();

  const state = window.viewerState = { frames: 0, duration, time: 0, playing, skinned: characters.every((c) => c.skinned), ndc: {} };
  const p = new THREE.Vector3();
  function extent(c) {  // the character's joints on screen, normalised device coordinates [x min, x max, y min, y max]
    const e = [Infinity, -Infinity, Infinity, -Infinity];
    for (const b of c.points) {
      b.getWorldPosition(p).project(camera);
      e[0] = Math.min(e[0], p.x); e[1] = Math.max(e[1], p.x); e[2] = Math.min(e[2], p.y); e[3] = Math.max(e[3], p.y);
    }
    return e;
  }
  let drawnAt = null;
  function frame(now) {
    if (playing) { t += Math.max(0, now - last) / 1000; if (t >= duration) t = 0; }  // a frame's time may precede the start
    last = now;
    requestAnimationFrame(frame);
    if (!dirty && t === drawnAt) return;  // paused and unchanged: nothing to draw
    dirty = false; drawnAt = t;
    for (const c of characters) pose(c, t);
    const x = Math.min(Math.max(t, 0) / SAMPLE, count - 1), i = Math.floor(x), a = x - i, j = Math.min(i + 1, count - 1);
    const target = views[i].centre.clone().lerp(views[j].centre, a);
    const distance = views[i].distance * (1 - a) + views[j].distance * a;
    camera.position.copy(target).addScaledVector(forward, -distance);
    camera.up.copy(camUp); camera.lookAt(target);
    camera.updateMatrixWorld();
    renderer.render(scene, camera);
    ui.timeline.value = t;
    ui.clock.textContent = `${t.toFixed(2)} s / ${duration.toFixed(2)} s`;
    Object.assign(state, { frames: state.frames + 1, time: t, playing, ndc: { simulated: extent(sim), reference: extent(ref) } });
  }
  requestAnimationFrame(frame);
}

const showError = (e) => { const el = document.getElementById("error"); if (el) el.textContent = "3D viewer: " + e; else console.error(e); };
window.startViewer = (a, b) => startViewer(a, b).catch(showError);
if (window.pendingViewer) window.startViewer(...window.pendingViewer);  // job.js asked before this module loaded
