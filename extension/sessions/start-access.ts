// proxy-core's startAccess runs in the extension host process: no child CLI process, no native modules.
import { startAccess } from '../../proxy-core/access';
import type { StartAccessLike } from './access-types';

export const startAccessForExtension: StartAccessLike = startAccess;
