// The 3D viewer: the simulated and the reference motion (glTF) side by side, with three.js.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";

async function startViewer(simUrl, refUrl) {
  const canvas = document.getElementById("viewer");
  const renderer = new THREE.WebGLRenderer({ canvas, antialias: true });
  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0xeeeeff);
  const camera = new THREE.PerspectiveCamera(40, canvas.width / canvas.height, 0.05, 100);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x888888, 2.5));
  const sun = new THREE.DirectionalLight(0xffffff, 1.5); sun.position.set(3, 5, 2); scene.add(sun);
  scene.add(new THREE.GridHelper(40, 40, 0x999999, 0xcccccc));
  const loader = new GLTFLoader();
  const mixers = [], roots = [];
  for (const [url, colour, offset] of [[simUrl, 0xe88a33, 0], [refUrl, 0x8cb8f0, 1.0]]) {
    const gltf = await loader.loadAsync(url);
    gltf.scene.traverse(o => { if (o.isMesh) o.material = new THREE.MeshStandardMaterial({ color: colour }); });
    const holder = new THREE.Group(); holder.position.z = offset; holder.add(gltf.scene); scene.add(holder);
    const mixer = new THREE.AnimationMixer(gltf.scene); mixer.clipAction(gltf.animations[0]).play();
    mixers.push([mixer, gltf.animations[0].duration]); roots.push(gltf.scene.children[0] || gltf.scene);
  }
  const duration = Math.min(...mixers.map(m => m[1]));
  let t = 0, playing = true, last = performance.now();
  const slider = document.getElementById("timeline"), clock = document.getElementById("clock");
  document.getElementById("play").onclick = (e) => { playing = !playing; e.target.textContent = playing ? "pause" : "play"; };
  slider.oninput = () => { t = slider.value / 1000 * duration; };
  window.viewerState = { frames: 0, duration };
  function frame(now) {
    if (playing) t = (t + (now - last) / 1000) % duration;
    last = now;
    for (const [m] of mixers) m.setTime(t);
    const p = new THREE.Vector3(); roots[0].getWorldPosition(p);
    camera.position.set(p.x + 0.5, 1.4, p.z - 4.2); camera.lookAt(p.x, 0.8, p.z + 0.5);
    renderer.render(scene, camera);
    slider.value = Math.round(t / duration * 1000); clock.textContent = t.toFixed(2) + " s";
    window.viewerState.frames += 1;
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
}

const showError = (e) => { document.getElementById("error").textContent = "3D viewer: " + e; };
window.startViewer = (a, b) => startViewer(a, b).catch(showError);
if (window.pendingViewer) window.startViewer(...window.pendingViewer);  // job.js asked before this module loaded
