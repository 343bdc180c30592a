/**
 * Every command group of `portcullis`, in the order `--help` lists them. Adding a group = one line here.
 */
import type { Command } from 'commander';
import { registerAccessCommands } from './access';
import { registerAccountCommands } from './account';
import { registerGatewayCommands } from './gateway';
import { registerLoginCommands } from './login';
import { registerMfaCommands } from './mfa';
import { registerRequestCommands } from './request';
import { registerResourceCommands } from './resource';
import { registerServerCommands } from './server';
import { registerSessionCommands } from './session';
import { registerStartCommands } from './start';

export type RegisterCommands = (program: Command) => void;

export const COMMAND_GROUPS: readonly RegisterCommands[] = Object.freeze([
  registerLoginCommands,
  registerAccessCommands,
  registerSessionCommands,
  registerRequestCommands,
  registerResourceCommands,
  registerAccountCommands,
  registerGatewayCommands,
  registerMfaCommands,
  registerServerCommands,
  registerStartCommands,
]);
