'use strict';
// GraphQL resolvers over the platform. Auth is checked in every root field,
// so a wrong or missing token gets Railway's field error "Not Authorized"
// (HTTP 200, data null) rather than an HTTP error.

const { GraphQLError } = require('graphql');
const { ApiError, IN_PROGRESS, totalReplicas } = require('./platform');
const { boundedIterator } = require('./util');

function notAuthorized() { return new GraphQLError('Not Authorized'); }

// ------------------------------------------------------------------ helpers

function encodeCursor(s) { return Buffer.from(String(s)).toString('base64'); }
function decodeCursor(c) {
  try { return Buffer.from(String(c), 'base64').toString('utf8'); } catch (_) { return null; }
}

// Relay connection over an ordered array; cursors are the items' ids.
function connection(items, args, idOf = (x) => x.id) {
  const a = args || {};
  let start = 0;
  let end = items.length;
  if (a.after) {
    const id = decodeCursor(a.after);
    const i = items.findIndex((x) => idOf(x) === id);
    if (i >= 0) start = i + 1;
  }
  if (a.before) {
    const id = decodeCursor(a.before);
    const i = items.findIndex((x) => idOf(x) === id);
    if (i >= 0) end = i;
  }
  let slice = items.slice(start, Math.max(start, end));
  let hasNext = end < items.length;
  let hasPrev = start > 0;
  if (Number.isInteger(a.first) && a.first >= 0 && slice.length > a.first) { slice = slice.slice(0, a.first); hasNext = true; }
  if (Number.isInteger(a.last) && a.last >= 0 && slice.length > a.last) { slice = slice.slice(slice.length - a.last); hasPrev = true; }
  const edges = slice.map((node) => ({ cursor: encodeCursor(idOf(node)), node }));
  return {
    edges,
    pageInfo: {
      startCursor: edges.length ? edges[0].cursor : null,
      endCursor: edges.length ? edges[edges.length - 1].cursor : null,
      hasNextPage: hasNext,
      hasPreviousPage: hasPrev,
    },
  };
}

function wrap(fn) {
  return (...args) => {
    try {
      const v = fn(...args);
      if (v && typeof v.then === 'function') return v.catch(rethrow);
      return v;
    } catch (e) {
      return rethrow(e);
    }
  };
}
function rethrow(e) {
  if (e instanceof GraphQLError) throw e;
  if (e instanceof ApiError || e.name === 'ApiErrorLocal' || e.constructor.name === 'ApiError') throw new GraphQLError(e.message);
  throw new GraphQLError(e.message || 'Problem processing request');
}

function makeResolvers(app) {
  const { platform: P, logs, metrics, limiter } = app;
  const pg = P.pg;

  // ---- auth
  function need(ctx, scope = {}) {
    const a = ctx && ctx.auth;
    if (!a || !a.kind) throw notAuthorized();
    if (a.kind === 'account') return a;
    // project token: one project, its primary environment
    if (scope.accountOnly) throw notAuthorized();
    if (scope.projectId && scope.projectId !== P.project.id) throw notAuthorized();
    if (scope.environmentId && scope.environmentId !== P.primaryEnv.id) throw notAuthorized();
    return a;
  }
  const isProjectToken = (ctx) => ctx.auth && ctx.auth.kind === 'project';
  const envVisible = (ctx, envId) => !isProjectToken(ctx) || envId === P.primaryEnv.id;

  function depVisible(ctx, id) {
    const d = P.mustDeployment(id);
    need(ctx, { environmentId: d.environmentId });
    return d;
  }

  function projectOf(ctx, id) {
    need(ctx, { projectId: id });
    if (id !== P.project.id) throw new ApiError('Project not found');
    return P.project;
  }

  const sortDeps = (arr) => arr.sort((a, b) => b.seq - a.seq);

  function deploymentsFiltered(ctx, input) {
    const i = input || {};
    if (i.projectId && i.projectId !== P.project.id) return [];
    let list = [...P.deployments.values()];
    if (i.environmentId) list = list.filter((d) => d.environmentId === i.environmentId);
    if (i.serviceId) list = list.filter((d) => d.serviceId === i.serviceId);
    if (isProjectToken(ctx)) list = list.filter((d) => d.environmentId === P.primaryEnv.id);
    if (i.status && Array.isArray(i.status.in)) list = list.filter((d) => i.status.in.includes(d.status));
    if (i.status && Array.isArray(i.status.notIn)) list = list.filter((d) => !i.status.notIn.includes(d.status));
    return sortDeps(list);
  }

  function envConfig(envId, decrypt) {
    const services = {};
    for (const svc of P.services) {
      const inst = P.instance(envId, svc.id);
      const vars = {};
      for (const [k, v] of P.vars(envId, svc.id)) vars[k] = decrypt ? { value: v } : {};
      services[svc.id] = {
        source: { image: svc.kind === 'app' ? `sandbox-app:${inst.sourceVersion}` : 'postgres:15' },
        deploy: {
          multiRegionConfig: JSON.parse(JSON.stringify(inst.multiRegionConfig)),
          healthcheckPath: inst.healthcheckPath, healthcheckTimeout: inst.healthcheckTimeout,
          restartPolicyType: inst.restartPolicyType, restartPolicyMaxRetries: inst.restartPolicyMaxRetries,
          startCommand: inst.startCommand,
        },
        variables: vars,
      };
      if (svc.kind === 'postgres' && P.volume && envId === P.primaryEnv.id) {
        services[svc.id].volumeMounts = { [P.volume.id]: { mountPath: P.volumeInstance.mountPath } };
      }
    }
    const shared = {};
    for (const [k, v] of P.vars(envId, null)) shared[k] = decrypt ? { value: v } : {};
    const out = { services, sharedVariables: shared };
    if (P.volume && envId === P.primaryEnv.id) out.volumes = { [P.volume.id]: { sizeMB: P.volumeInstance.sizeMB, region: P.volumeInstance.region } };
    return out;
  }

  function volumeInstanceOf(ctx, id) {
    need(ctx, { environmentId: P.primaryEnv.id });
    if (!P.volumeInstance || id !== P.volumeInstance.id) throw new ApiError('Volume instance not found');
    return P.volumeInstance;
  }

  function logsArgs(args) {
    const a = { ...args };
    if (a.limit === undefined || a.limit === null) a.limit = 100;
    return a;
  }

  // ---- resolvers by type
  const Query = {
    me: (_, __, ctx) => { need(ctx, { accountOnly: true }); return P.user; },
    projects: (_, args, ctx) => {
      need(ctx, { accountOnly: true });
      if (args.workspaceId && args.workspaceId !== P.workspace.id) return connection([], args);
      return connection([P.project], args);
    },
    project: (_, { id }, ctx) => projectOf(ctx, id),
    projectToken: (_, __, ctx) => {
      if (!ctx.auth || ctx.auth.kind !== 'project') throw notAuthorized();
      return { id: P.ids.derive('projectToken', 'main'), name: 'sandbox', displayToken: `${app.cfg.projectToken.slice(0, 4)}…`, projectId: P.project.id, environmentId: P.primaryEnv.id, createdAt: P.started };
    },
    environment: (_, { id, projectId }, ctx) => {
      need(ctx, { environmentId: id, projectId });
      if (projectId && projectId !== P.project.id) throw new ApiError('Environment not found');
      return P.mustEnv(id);
    },
    environments: (_, args, ctx) => {
      projectOf(ctx, args.projectId);
      let list = P.environments.filter((e) => envVisible(ctx, e.id));
      if (args.isEphemeral === true) list = [];
      return connection(list, args);
    },
    service: (_, { id }, ctx) => { need(ctx); return P.mustService(id); },
    serviceInstance: (_, { environmentId, serviceId }, ctx) => {
      need(ctx, { environmentId });
      return P.mustInstance(environmentId, serviceId);
    },
    deployments: (_, args, ctx) => {
      const i = args.input || {};
      need(ctx, { projectId: i.projectId, environmentId: i.environmentId });
      return connection(deploymentsFiltered(ctx, i), args);
    },
    deployment: (_, { id }, ctx) => depVisible(ctx, id),
    deploymentLogs: (_, args, ctx) => { depVisible(ctx, args.deploymentId); return logs.query('deploy', args.deploymentId, logsArgs(args)); },
    buildLogs: (_, args, ctx) => { depVisible(ctx, args.deploymentId); return logs.query('build', args.deploymentId, logsArgs(args)); },
    httpLogs: (_, args, ctx) => { depVisible(ctx, args.deploymentId); return logs.query('http', args.deploymentId, args); },
    environmentLogs: (_, args, ctx) => {
      need(ctx, { environmentId: args.environmentId });
      P.mustEnv(args.environmentId);
      return logs.query('env', args.environmentId, args);
    },
    variables: (_, { projectId, environmentId, serviceId, unrendered }, ctx) => {
      need(ctx, { projectId, environmentId });
      if (projectId !== P.project.id) throw new ApiError('Project not found');
      P.mustEnv(environmentId);
      if (serviceId) P.mustService(serviceId);
      return P.variablesView(environmentId, serviceId || null, Boolean(unrendered));
    },
    metrics: (_, args, ctx) => {
      need(ctx, { projectId: args.projectId, environmentId: args.environmentId });
      const a = { ...args };
      if (isProjectToken(ctx)) a.environmentId = P.primaryEnv.id;
      if (a.projectId && a.projectId !== P.project.id) return [];
      try {
        return metrics.query(a);
      } catch (e) {
        throw new ApiError(e.message);
      }
    },
    volumeInstance: (_, { id }, ctx) => volumeInstanceOf(ctx, id),
    volumeInstanceBackupList: async (_, { volumeInstanceId }, ctx) => {
      volumeInstanceOf(ctx, volumeInstanceId);
      return pg.list();
    },
    volumeInstanceBackupScheduleList: (_, { volumeInstanceId }, ctx) => {
      volumeInstanceOf(ctx, volumeInstanceId);
      return pg.scheduleList();
    },
    workflowStatus: (_, { workflowId }, ctx) => {
      need(ctx);
      const w = pg ? pg.workflow(workflowId) : null;
      if (!w) return { status: 'NotFound', error: null };
      return { status: w.status, error: w.error };
    },
    environmentPatch: (_, { id }, ctx) => {
      need(ctx);
      const p = P.patches.get(id);
      if (!p) throw new ApiError('Environment patch not found');
      need(ctx, { environmentId: p.environmentId });
      return p;
    },
    environmentStagedChanges: (_, { environmentId }, ctx) => {
      need(ctx, { environmentId });
      return P.stagedPatch(environmentId);
    },
  };

  const Mutation = {
    serviceInstanceDeployV2: (_, { serviceId, environmentId, commitSha }, ctx) => {
      need(ctx, { environmentId });
      const inst = P.mustInstance(environmentId, serviceId);
      const version = P.resolveVersion(inst, commitSha);
      return P.deploy(inst, { version, reason: 'deploy' }).id;
    },
    serviceInstanceDeploy: (_, { serviceId, environmentId, commitSha }, ctx) => {
      need(ctx, { environmentId });
      const inst = P.mustInstance(environmentId, serviceId);
      P.deploy(inst, { version: P.resolveVersion(inst, commitSha), reason: 'deploy' });
      return true;
    },
    serviceInstanceRedeploy: (_, { serviceId, environmentId }, ctx) => {
      need(ctx, { environmentId });
      const inst = P.mustInstance(environmentId, serviceId);
      const latest = P.latestDeployment(inst);
      if (!latest) throw new ApiError('No deployment found for this service instance');
      P.redeploy(latest);
      return true;
    },
    serviceInstanceUpdate: (_, { serviceId, environmentId, input }, ctx) => {
      const envId = environmentId || P.primaryEnv.id;
      need(ctx, { environmentId: envId });
      const inst = P.mustInstance(envId, serviceId);
      const i = input || {};
      if (i.multiRegionConfig !== undefined && i.multiRegionConfig !== null) {
        const cur = Object.fromEntries(Object.keys(inst.multiRegionConfig).map((r) => [r, null]));
        P.setMultiRegion(inst, { ...cur, ...i.multiRegionConfig });
      } else if (Number.isInteger(i.numReplicas)) {
        const region = i.region || Object.keys(inst.multiRegionConfig)[0] || P.defaultRegion();
        const cur = Object.fromEntries(Object.keys(inst.multiRegionConfig).map((r) => [r, null]));
        P.setMultiRegion(inst, { ...cur, [region]: { numReplicas: i.numReplicas } });
      }
      for (const k of ['healthcheckPath', 'healthcheckTimeout', 'restartPolicyType', 'restartPolicyMaxRetries', 'drainingSeconds', 'overlapSeconds', 'startCommand', 'sleepApplication']) {
        if (i[k] !== undefined) inst[k] = i[k];
      }
      if (i.source && i.source.image) inst.sourceVersion = P.versionFromImage(i.source.image);
      inst.updatedAt = new Date().toISOString();
      P.event('service.update', { serviceId, environmentId: envId, keys: Object.keys(i) });
      return true;
    },
    deploymentRedeploy: (_, { id }, ctx) => P.redeploy(depVisible(ctx, id)),
    deploymentRollback: (_, { id }, ctx) => { P.rollback(depVisible(ctx, id)); return true; },
    deploymentRestart: (_, { id }, ctx) => {
      const d = depVisible(ctx, id);
      P.restart(d).catch((e) => P.event('error', { where: 'restart', message: e.message }));
      return true;
    },
    deploymentStop: (_, { id }, ctx) => {
      const d = depVisible(ctx, id);
      P.stop(d, { remove: false }).catch((e) => P.event('error', { where: 'stop', message: e.message }));
      return true;
    },
    deploymentRemove: (_, { id }, ctx) => {
      const d = depVisible(ctx, id);
      P.stop(d, { remove: true }).catch((e) => P.event('error', { where: 'remove', message: e.message }));
      return true;
    },
    deploymentCancel: (_, { id }, ctx) => { P.cancel(depVisible(ctx, id)); return true; },
    environmentPatchCommit: (_, { environmentId, patch, commitMessage }, ctx) => {
      need(ctx, { environmentId });
      return P.applyPatch(environmentId, patch, { message: commitMessage }).id;
    },
    environmentStageChanges: (_, { environmentId, input, merge }, ctx) => {
      need(ctx, { environmentId });
      if (!input || typeof input !== 'object' || Array.isArray(input)) throw new ApiError('Invalid input: expected an object');
      return P.stageChanges(environmentId, input, merge);
    },
    environmentPatchCommitStaged: (_, { environmentId, commitMessage, skipDeploys }, ctx) => {
      need(ctx, { environmentId });
      return P.commitStaged(environmentId, commitMessage, Boolean(skipDeploys));
    },
    variableUpsert: (_, { input }, ctx) => {
      need(ctx, { projectId: input.projectId, environmentId: input.environmentId });
      if (input.projectId !== P.project.id) throw new ApiError('Project not found');
      const changed = P.upsertVariables(input.environmentId, input.serviceId || null, [[input.name, input.value]], false);
      if (!input.skipDeploys) for (const sid of changed) P.redeployLatest(P.instance(input.environmentId, sid), 'variables');
      return true;
    },
    variableCollectionUpsert: (_, { input }, ctx) => {
      need(ctx, { projectId: input.projectId, environmentId: input.environmentId });
      if (input.projectId !== P.project.id) throw new ApiError('Project not found');
      const v = input.variables;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ApiError('variables must be an object of name to value');
      const entries = Object.entries(v).map(([k, val]) => [k, val === null || val === undefined ? '' : (typeof val === 'object' ? JSON.stringify(val) : String(val))]);
      const changed = P.upsertVariables(input.environmentId, input.serviceId || null, entries, Boolean(input.replace));
      if (!input.skipDeploys) for (const sid of changed) P.redeployLatest(P.instance(input.environmentId, sid), 'variables');
      return true;
    },
    variableDelete: (_, { input }, ctx) => {
      need(ctx, { projectId: input.projectId, environmentId: input.environmentId });
      if (input.projectId !== P.project.id) throw new ApiError('Project not found');
      P.deleteVariable(input.environmentId, input.serviceId || null, input.name);
      return true;
    },
    volumeInstanceBackupCreate: (_, { volumeInstanceId, name }, ctx) => {
      const a = need(ctx, { environmentId: P.primaryEnv.id });
      volumeInstanceOf(ctx, volumeInstanceId);
      const w = pg.create(name, a.kind === 'account' ? P.user.id : null);
      return { workflowId: w.id };
    },
    volumeInstanceBackupRestore: (_, { volumeInstanceId, volumeInstanceBackupId }, ctx) => {
      volumeInstanceOf(ctx, volumeInstanceId);
      const w = pg.restoreStage(P, volumeInstanceBackupId);
      return { workflowId: w.id };
    },
    volumeInstanceBackupScheduleUpdate: (_, { volumeInstanceId, kinds }, ctx) => {
      volumeInstanceOf(ctx, volumeInstanceId);
      return pg.scheduleUpdate(kinds, volumeInstanceId);
    },
  };

  const Subscription = {
    deploymentLogs: {
      subscribe: (_, args, ctx) => { depVisible(ctx, args.deploymentId); return logs.subscribe('deploy', args.deploymentId, args); },
      resolve: (v) => v,
    },
    buildLogs: {
      subscribe: (_, args, ctx) => { depVisible(ctx, args.deploymentId); return logs.subscribe('build', args.deploymentId, args); },
      resolve: (v) => v,
    },
    httpLogs: {
      subscribe: (_, args, ctx) => { depVisible(ctx, args.deploymentId); return logs.subscribe('http', args.deploymentId, args); },
      resolve: (v) => v,
    },
    environmentLogs: {
      subscribe: (_, args, ctx) => {
        need(ctx, { environmentId: args.environmentId });
        P.mustEnv(args.environmentId);
        return logs.subscribe('env', args.environmentId, args);
      },
      resolve: (v) => v,
    },
    deployment: {
      subscribe: (_, { id }, ctx) => {
        const d = depVisible(ctx, id);
        let last = null;
        const on = (dep) => {
          if (dep.id !== id) return;
          const sig = `${dep.status}|${[...dep.replicas.values()].map((r) => r.status).join(',')}`;
          if (sig === last) return;
          last = sig;
          it.push(dep);
        };
        const it = boundedIterator(() => P.off('deployment', on), 100);
        on(d);
        P.on('deployment', on);
        return it;
      },
      resolve: (v) => v,
    },
    environmentStagedPatch: {
      subscribe: (_, { environmentId }, ctx) => {
        need(ctx, { environmentId });
        const on = (rec) => { if (rec.environmentId === environmentId) it.push(rec); };
        const it = boundedIterator(() => P.off('staged', on), 100);
        it.push(P.stagedPatch(environmentId));
        P.on('staged', on);
        return it;
      },
      resolve: (v) => v,
    },
  };

  const types = {
    User: {
      workspaces: () => [P.workspace],
      apiTokenRateLimit: (_, __, ctx) => limiter.peek(ctx.auth.key),
    },
    Workspace: {
      projects: (_, args) => connection([P.project], args),
      apiTokenRateLimit: (_, __, ctx) => limiter.peek(ctx.auth.key),
    },
    ProjectToken: {
      project: () => P.project,
      environment: () => P.primaryEnv,
    },
    Project: {
      isPublic: () => false,
      isTempProject: () => false,
      prDeploys: () => false,
      deletedAt: () => null,
      workspace: () => P.workspace,
      services: (_, args) => connection(P.services, args),
      environments: (_, args, ctx) => {
        let list = P.environments.filter((e) => envVisible(ctx, e.id));
        if (args.isEphemeral === true) list = [];
        if (args.sort === 'desc') list = list.slice().reverse();
        return connection(list, args);
      },
      volumes: (_, args) => connection(P.volume ? [P.volume] : [], args),
    },
    Environment: {
      canAccess: () => true,
      isEphemeral: () => false,
      deletedAt: () => null,
      unmergedChangesCount: (env) => {
        const id = P.staged.get(env.id);
        const rec = id && P.patches.get(id);
        return rec && rec.status === 'STAGED' ? Object.keys(rec.patch || {}).length : 0;
      },
      config: (env, { decryptVariables }) => envConfig(env.id, Boolean(decryptVariables)),
      serviceInstances: (env, args) => connection(P.services.map((s) => P.instance(env.id, s.id)), args),
      deployments: (env, args) => connection(sortDeps(P.deploymentsOf(env.id, null)), args),
      volumeInstances: (env, args) => connection(P.volumeInstance && env.id === P.primaryEnv.id ? [P.volumeInstance] : [], args),
    },
    EnvironmentPatch: {
      environment: (p) => P.env(p.environmentId),
      patch: (p) => p.patch || {},
    },
    Service: {
      project: () => P.project,
      deletedAt: () => null,
      templateId: () => null,
    },
    ServiceInstance: {
      environmentId: (i) => i.envId,
      serviceId: (i) => i.svcId,
      serviceName: (i) => P.service(i.svcId).name,
      service: (i) => P.service(i.svcId),
      deletedAt: () => null,
      isUpdatable: () => true,
      upstreamUrl: () => null,
      latestDeployment: (i) => P.latestDeployment(i),
      activeDeployments: (i) => P.activeDeployments(i),
      numReplicas: (i) => totalReplicas(i.multiRegionConfig),
      region: (i) => Object.keys(i.multiRegionConfig)[0] || null,
      source: (i) => ({ image: P.service(i.svcId).kind === 'app' ? `sandbox-app:${i.sourceVersion}` : 'postgres:15', repo: null }),
      domains: (i) => {
        const svc = P.service(i.svcId);
        const dom = i.envId === P.primaryEnv.id ? P.domainOf(svc) : null;
        if (!dom) return { serviceDomains: [] };
        return {
          serviceDomains: [{
            id: P.ids.derive('serviceDomain', `${i.envId}:${svc.id}`), domain: dom, environmentId: i.envId, serviceId: svc.id,
            projectId: P.project.id, suffix: null, syncStatus: 'ACTIVE', targetPort: null,
            createdAt: P.started, updatedAt: P.started, deletedAt: null,
          }],
        };
      },
    },
    Deployment: {
      service: (d) => P.service(d.serviceId),
      environment: (d) => P.env(d.environmentId),
      creator: () => ({ id: P.user.id, email: P.user.email, name: P.user.name, avatar: null }),
      canRedeploy: (d) => !IN_PROGRESS.has(d.status),
      canRollback: (d) => {
        const inst = P.instance(d.environmentId, d.serviceId);
        return d.everSucceeded && inst.activeId !== d.id && !IN_PROGRESS.has(d.status);
      },
      suggestAddServiceDomain: () => false,
      instances: (d) => [...d.replicas.values()].filter((r) => r.status !== 'REMOVED').map((r) => ({ id: r.id, status: r.status })),
    },
    Volume: {
      project: () => P.project,
    },
    VolumeInstance: {
      currentSizeMB: () => (pg ? Number(pg.sizeMB.toFixed(2)) : 0),
      isPendingDeletion: () => false,
      deletedAt: () => null,
      state: () => (pg && pg.busy === 'restore' ? 'RESTORING' : 'READY'),
      volume: () => P.volume,
      service: (v) => P.service(v.serviceId),
      environment: (v) => P.env(v.environmentId),
    },
  };

  const all = { Query, Mutation, Subscription, ...types };
  // wrap every function so platform errors become GraphQL errors
  for (const t of Object.values(all)) {
    for (const [k, v] of Object.entries(t)) {
      if (typeof v === 'function') t[k] = wrap(v);
      else if (v && typeof v.subscribe === 'function') v.subscribe = wrap(v.subscribe);
    }
  }
  return all;
}

// Attach resolvers to a schema built from SDL.
function attachResolvers(schema, resolvers) {
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const type = schema.getType(typeName);
    if (!type) throw new Error(`resolvers for unknown type ${typeName}`);
    const defs = type.getFields();
    for (const [fname, r] of Object.entries(fields)) {
      const f = defs[fname];
      if (!f) throw new Error(`resolver for unknown field ${typeName}.${fname}`);
      if (typeof r === 'function') f.resolve = r;
      else { f.subscribe = r.subscribe; f.resolve = r.resolve; }
    }
  }
  return schema;
}

module.exports = { makeResolvers, attachResolvers, connection };
