import { version } from '../package.json';

export const CLI_VERSION: string = version;
