// Entry point of the single-file gateway (`portcullis-gateway`, built by `npm run package:gateway`).
import { createGatewayProgram } from './gateway-program';
import { runCli } from './run-cli';

runCli(createGatewayProgram);
