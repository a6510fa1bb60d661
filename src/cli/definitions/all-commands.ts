import { compactDefinition } from './compact.js';
import type { RegisteredCommand } from './define-command.js';
import { demoDefinition } from './demo.js';
import { doctorDefinition } from './doctor.js';
import { exportDefinition } from './export.js';
import { importDyiDefinition } from './import-dyi.js';
import { listenDefinition } from './listen.js';
import { probeDefinition } from './probe.js';
import { pruneDefinition } from './prune.js';
import { sandboxDefinition } from './sandbox.js';
import { schemaDefinition } from './schema.js';
import { tokenDefinition } from './token.js';
import { verifyDefinition } from './verify.js';
import { webhookDefinition } from './webhook.js';

/** Every command, in the order `ig-export --help` lists them. */
export const ALL_COMMANDS: readonly RegisteredCommand[] = [
  exportDefinition,
  demoDefinition,
  sandboxDefinition,
  compactDefinition,
  importDyiDefinition,
  pruneDefinition,
  verifyDefinition,
  doctorDefinition,
  tokenDefinition,
  listenDefinition,
  webhookDefinition,
  probeDefinition,
  schemaDefinition,
];
