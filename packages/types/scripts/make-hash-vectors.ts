// Writes test-vectors/deployment-hash.json from src/testing/hash-vector-inputs.ts.
// Run only when the encoding version changes: the vectors pin the hash so it never changes by accident.
import { writeFileSync } from "node:fs";
import { bytesToHex } from "@noble/hashes/utils.js";
import { deploymentHashHex, encodeDeployment } from "../src/deployment/hash-deployment.ts";
import { parseDeployment } from "../src/deployment/parse-deployment.ts";
import { hashVectorInputs } from "../src/testing/hash-vector-inputs.ts";

const vectors = hashVectorInputs().map(({ name, deployment }) => {
  const d = parseDeployment(deployment);
  const encoding = bytesToHex(encodeDeployment(d));
  return { name, deployment, hash: deploymentHashHex(d), ...(encoding.length <= 400 ? { encoding } : {}) };
});
const out = new URL("../test-vectors/deployment-hash.json", import.meta.url);
writeFileSync(out, JSON.stringify({ encoding: "zgrid/deployment/v1", vectors }, null, 2) + "\n");
process.stdout.write(`wrote ${vectors.length} vectors to ${out.pathname}\n`);
