// Validate a .glb/.gltf with the Khronos glTF validator; prints the issue summary and the
// validator's own description of the asset (skins, animations, influences per vertex) as JSON.
const fs = require('fs');
const validator = require('gltf-validator');
const data = new Uint8Array(fs.readFileSync(process.argv[2]));
validator.validateBytes(data).then((report) => {
  const issues = report.issues;
  console.log(JSON.stringify({ errors: issues.numErrors, warnings: issues.numWarnings, infos: issues.numInfos, hints: issues.numHints,
                               messages: issues.messages, info: report.info }));
}).catch((error) => { console.error(String(error)); process.exit(1); });
