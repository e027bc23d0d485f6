// validate-k8s.mjs FILE... — validates every document of the given Kubernetes manifests
// against the Kubernetes API schemas bundled in the npm package kubernetes-models (offline).
// Prints one line per document and exits 1 when any document is invalid or of an unknown kind.
import fs from "node:fs";
import yaml from "js-yaml";
import * as core from "kubernetes-models/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as policy from "kubernetes-models/policy/v1";

const groups = { v1: core, "apps/v1": apps, "policy/v1": policy };
let bad = 0, n = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(fs.readFileSync(file, "utf8"))) {
    if (!doc) continue;
    n++;
    const where = `${file}: ${doc.kind}/${doc.metadata && doc.metadata.name}`;
    const Model = groups[doc.apiVersion] && groups[doc.apiVersion][doc.kind];
    if (!Model) {
      console.log(`INVALID ${where}: no schema for ${doc.apiVersion} ${doc.kind}`);
      bad++;
      continue;
    }
    try {
      new Model(doc).validate();
      console.log(`valid   ${where}`);
    } catch (e) {
      console.log(`INVALID ${where}: ${e.message}`);
      bad++;
    }
  }
}
console.log(`${n} documents, ${bad} invalid`);
process.exit(bad || n === 0 ? 1 : 0);
