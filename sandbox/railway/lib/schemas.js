'use strict';
// Loading the emulator's schema and the public reference schema, proving the
// subset relation, and validating client documents against both.

const fs = require('node:fs');
const path = require('node:path');
const {
  buildSchema, parse, validate, Source, isObjectType, isInterfaceType,
  isInputObjectType, isEnumType, isUnionType, isScalarType, isSpecifiedScalarType,
  isIntrospectionType, isRequiredArgument, isRequiredInputField, printError,
} = require('graphql');

const EMULATOR_SCHEMA_PATH = path.join(__dirname, '..', 'schema.graphql');

// The reference schema: $RAILWAY_PUBLIC_SCHEMA, else the workplace's copy
// beside the repository (../shared/railway from the root; sandbox/railway is
// two levels below it), else the vendored copy in public/ (see its README).
const SHARED_SCHEMA_PATH = path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'railway', 'schema.graphql');
const VENDORED_SCHEMA_PATH = path.join(__dirname, '..', 'public', 'schema.graphql');

function publicSchemaPath() {
  if (process.env.RAILWAY_PUBLIC_SCHEMA) return process.env.RAILWAY_PUBLIC_SCHEMA;
  if (fs.existsSync(SHARED_SCHEMA_PATH)) return SHARED_SCHEMA_PATH;
  return VENDORED_SCHEMA_PATH;
}

function loadSchemaFile(file) {
  const text = fs.readFileSync(file, 'utf8');
  return buildSchema(new Source(text, file));
}

function loadEmulatorSchema() {
  return loadSchemaFile(EMULATOR_SCHEMA_PATH);
}

// Throws an Error whose message says where the file was expected.
function loadPublicSchema() {
  const file = publicSchemaPath();
  if (!fs.existsSync(file)) {
    const err = new Error(`public Railway schema not found at ${file} ` +
      '(expected ../shared/railway/schema.graphql beside the repository or ' +
      'sandbox/railway/public/schema.graphql; set RAILWAY_PUBLIC_SCHEMA to its path)');
    err.code = 'ENOPUBLICSCHEMA';
    throw err;
  }
  return loadSchemaFile(file);
}

function kindOf(t) {
  if (isObjectType(t)) return 'object';
  if (isInterfaceType(t)) return 'interface';
  if (isInputObjectType(t)) return 'input';
  if (isEnumType(t)) return 'enum';
  if (isUnionType(t)) return 'union';
  if (isScalarType(t)) return 'scalar';
  return 'unknown';
}

function sameDefault(a, b) {
  return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b);
}

// Every problem that breaks "sub is a subset of sup", as strings.
function subsetProblems(sub, sup) {
  const problems = [];
  const p = (m) => problems.push(m);
  for (const op of ['getQueryType', 'getMutationType', 'getSubscriptionType']) {
    const a = sub[op]();
    const b = sup[op]();
    if (a && (!b || a.name !== b.name)) p(`root ${op.slice(3)}: ${a.name} is not the public root type`);
  }
  const types = sub.getTypeMap();
  for (const name of Object.keys(types).sort()) {
    const t = types[name];
    if (isIntrospectionType(t) || isSpecifiedScalarType(t)) continue;
    const u = sup.getType(name);
    if (!u) { p(`type ${name}: not in the public schema`); continue; }
    if (kindOf(t) !== kindOf(u)) { p(`type ${name}: is ${kindOf(t)} here but ${kindOf(u)} in the public schema`); continue; }
    if (isObjectType(t) || isInterfaceType(t)) {
      const upub = new Set(u.getInterfaces().map((i) => i.name));
      for (const i of t.getInterfaces()) {
        if (!upub.has(i.name)) p(`type ${name}: implements ${i.name}, the public type does not`);
      }
      const uf = u.getFields();
      for (const [fname, f] of Object.entries(t.getFields())) {
        const g = uf[fname];
        if (!g) { p(`field ${name}.${fname}: not in the public schema`); continue; }
        if (String(f.type) !== String(g.type)) p(`field ${name}.${fname}: type ${f.type} here, ${g.type} in the public schema`);
        const gargs = new Map(g.args.map((a) => [a.name, a]));
        for (const a of f.args) {
          const b = gargs.get(a.name);
          if (!b) { p(`argument ${name}.${fname}(${a.name}): not in the public schema`); continue; }
          if (String(a.type) !== String(b.type)) p(`argument ${name}.${fname}(${a.name}): type ${a.type} here, ${b.type} in the public schema`);
          if (!sameDefault(a.defaultValue, b.defaultValue)) p(`argument ${name}.${fname}(${a.name}): default differs from the public schema`);
        }
        const mine = new Set(f.args.map((a) => a.name));
        for (const b of g.args) {
          if (isRequiredArgument(b) && !mine.has(b.name)) p(`argument ${name}.${fname}(${b.name}): required in the public schema, missing here`);
        }
      }
    } else if (isInputObjectType(t)) {
      const uf = u.getFields();
      for (const [fname, f] of Object.entries(t.getFields())) {
        const g = uf[fname];
        if (!g) { p(`input field ${name}.${fname}: not in the public schema`); continue; }
        if (String(f.type) !== String(g.type)) p(`input field ${name}.${fname}: type ${f.type} here, ${g.type} in the public schema`);
        if (!sameDefault(f.defaultValue, g.defaultValue)) p(`input field ${name}.${fname}: default differs from the public schema`);
      }
      const mine = t.getFields();
      for (const [fname, g] of Object.entries(uf)) {
        if (isRequiredInputField(g) && !mine[fname]) p(`input field ${name}.${fname}: required in the public schema, missing here`);
      }
    } else if (isEnumType(t)) {
      const vals = new Set(u.getValues().map((v) => v.name));
      for (const v of t.getValues()) {
        if (!vals.has(v.name)) p(`enum value ${name}.${v.name}: not in the public schema`);
      }
    } else if (isUnionType(t)) {
      const members = new Set(u.getTypes().map((m) => m.name));
      for (const m of t.getTypes()) {
        if (!members.has(m.name)) p(`union ${name}: member ${m.name} not in the public schema`);
      }
    }
  }
  return problems;
}

// Validate one document's text against each named schema; returns
// [{schema, message}] (empty when valid everywhere).
function validateDocument(text, file, schemas) {
  let doc;
  try {
    doc = parse(new Source(text, file));
  } catch (e) {
    return [{ schema: 'syntax', message: printError(e) }];
  }
  const out = [];
  for (const [label, schema] of Object.entries(schemas)) {
    for (const e of validate(schema, doc)) out.push({ schema: label, message: printError(e) });
  }
  return out;
}

module.exports = {
  EMULATOR_SCHEMA_PATH, SHARED_SCHEMA_PATH, VENDORED_SCHEMA_PATH, publicSchemaPath, loadEmulatorSchema, loadPublicSchema,
  subsetProblems, validateDocument,
};
