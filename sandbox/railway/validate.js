#!/usr/bin/env node
'use strict';
// Validate GraphQL documents against the emulator's schema AND Railway's
// public schema: `node sandbox/railway/validate.js FILE.graphql...`.
// Exit 0 when every document is valid against both, 1 when one is not,
// 2 on usage errors or when a schema cannot be loaded.
//
// As a module: validateFiles(files) -> {ok, results:[{file, errors:[...]}]}.

const fs = require('node:fs');
const { loadEmulatorSchema, loadPublicSchema, validateDocument } = require('./lib/schemas');

function validateFiles(files, schemas) {
  const s = schemas || { emulator: loadEmulatorSchema(), public: loadPublicSchema() };
  const results = files.map((file) => {
    const text = fs.readFileSync(file, 'utf8');
    return { file, errors: validateDocument(text, file, s) };
  });
  return { ok: results.every((r) => r.errors.length === 0), results };
}

function main(argv) {
  const files = argv.filter((a) => !a.startsWith('-'));
  if (argv.includes('-h') || argv.includes('--help') || files.length === 0) {
    process.stderr.write('usage: validate.js FILE.graphql...\n' +
      'Validates each document against sandbox/railway/schema.graphql and the public\n' +
      'Railway schema (../shared/railway/schema.graphql, or $RAILWAY_PUBLIC_SCHEMA).\n');
    return 2;
  }
  let schemas;
  try {
    schemas = { emulator: loadEmulatorSchema(), public: loadPublicSchema() };
  } catch (e) {
    process.stderr.write(`validate.js: ${e.message}\n`);
    return 2;
  }
  let res;
  try {
    res = validateFiles(files, schemas);
  } catch (e) {
    process.stderr.write(`validate.js: ${e.message}\n`);
    return 2;
  }
  for (const r of res.results) {
    if (r.errors.length === 0) {
      process.stdout.write(`ok   ${r.file}\n`);
      continue;
    }
    process.stdout.write(`FAIL ${r.file}\n`);
    for (const e of r.errors) process.stdout.write(`  [${e.schema}] ${e.message.replace(/\n/g, '\n    ')}\n`);
  }
  return res.ok ? 0 : 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

module.exports = { validateFiles, main };
