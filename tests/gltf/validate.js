// Validate a .glb/.gltf with the Khronos glTF validator; prints the issue summary as JSON.
const fs = require('fs');
const validator = require('gltf-validator');
const data = new Uint8Array(fs.readFileSync(process.argv[2]));
validator.validateBytes(data).then((report) => {
  const issues = report.issues;
  console.log(JSON.stringify({ errors: issues.numErrors, warnings: issues.numWarnings, messages: issues.messages }));
}).catch((error) => { console.error(String(error)); process.exit(1); });
