// Load a GLB with three.js's GLTFLoader in headless Chromium, play its animation and report what
// three.js built: the SkinnedMesh(es), their bones, whether the bone matrices change while the
// animation plays, and some skinned vertices at given times.
// Usage: node skinned_glb.js FILE.glb TIMES_JSON VERTEX_STRIDE   (prints one JSON line)
const fs = require('fs');
const path = require('path');
const web = path.join(__dirname, '..', '..', 'app', 'server', 'web', 'node_modules');
const { chromium } = require(path.join(web, 'playwright-core'));

const ORIGIN = 'http://glb.test';  // answered by page.route below: the files come from disk
const PAGE = '<!doctype html><html><head><meta charset="utf-8">'
  + '<script type="importmap">{"imports": {"three": "/three/build/three.module.js", "three/addons/": "/three/examples/jsm/"}}</script>'
  + '</head><body><canvas id="c" width="320" height="240"></canvas></body></html>';
const TYPES = { '.js': 'text/javascript', '.glb': 'model/gltf-binary', '.html': 'text/html' };

(async () => {
  const [glb, timesJson, stride] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.route(`${ORIGIN}/**`, (route) => {
      const url = new URL(route.request().url());
      let file = null;
      if (url.pathname === '/') return route.fulfill({ body: PAGE, contentType: 'text/html' });
      if (url.pathname === '/model.glb') file = glb;
      else if (url.pathname.startsWith('/three/')) file = path.join(web, 'three', path.normalize(url.pathname.slice('/three/'.length)));
      if (!file || !fs.existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
      return route.fulfill({ body: fs.readFileSync(file), contentType: TYPES[path.extname(file)] || 'application/octet-stream' });
    });
    await page.goto(`${ORIGIN}/`);
    const built = await page.evaluate(async ({ times, stride }) => {
      const THREE = await import('three');
      const { GLTFLoader } = await import('three/addons/loaders/GLTFLoader.js');
      const gltf = await new GLTFLoader().loadAsync('/model.glb');
      const skinned = [];
      gltf.scene.traverse((o) => { if (o.isSkinnedMesh) skinned.push(o); });
      const renderer = new THREE.WebGLRenderer({ canvas: document.getElementById('c') });
      const scene = new THREE.Scene(); scene.add(gltf.scene);
      const camera = new THREE.PerspectiveCamera(50, 4 / 3, 0.1, 100); camera.position.set(0, 1, 5);
      const mixer = new THREE.AnimationMixer(gltf.scene);
      mixer.clipAction(gltf.animations[0]).play();
      const out = {
        skinned_meshes: skinned.length, meshes: 0, clip_duration: gltf.animations[0].duration, tracks: gltf.animations[0].tracks.length,
        bones: skinned.length ? skinned[0].skeleton.bones.map((b) => b.name) : [], vertices: [],
      };
      gltf.scene.traverse((o) => { if (o.isMesh) out.meshes += 1; });
      if (!skinned.length) return out;
      const mesh = skinned[0];
      mesh.frustumCulled = false;
      // The animation plays in real time: snapshots of the skeleton's bone matrices (what the GPU skins with).
      const snapshots = [];
      await new Promise((resolve) => {
        let last = performance.now();
        const tick = (now) => {
          mixer.update((now - last) / 1000); last = now;
          renderer.render(scene, camera);  // updates the skeleton's boneMatrices
          snapshots.push(Float32Array.from(mesh.skeleton.boneMatrices));
          if (snapshots.length < 30) requestAnimationFrame(tick); else resolve();
        };
        requestAnimationFrame(tick);
      });
      out.played_seconds = mixer.time;
      out.bone_matrix_changes = snapshots.slice(1).map((s, k) => Math.max(...s.map((v, i) => Math.abs(v - snapshots[k][i]))));
      // Skinned vertex positions at chosen times, as three.js skins them.
      const v = new THREE.Vector3();
      for (const t of times) {
        mixer.setTime(t);
        gltf.scene.updateMatrixWorld(true);
        mesh.skeleton.update();
        const rows = [];
        for (let i = 0; i < mesh.geometry.attributes.position.count; i += stride) {
          v.fromBufferAttribute(mesh.geometry.attributes.position, i);
          mesh.applyBoneTransform(i, v).applyMatrix4(mesh.matrixWorld);
          rows.push([v.x, v.y, v.z]);
        }
        out.vertices.push(rows);  // in the order of times
      }
      return out;
    }, { times: JSON.parse(timesJson), stride: Number(stride) });
    built.errors = errors;
    console.log(JSON.stringify(built));
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error(String(e)); process.exit(1); });
