// The `portcullis` command.
import { isLogWriterThread } from '../server/sessions/log-writer';
import { runLogWriterThread } from '../server/sessions/log-writer-worker';
import { createProgram } from './program';
import { runCli } from './run-cli';

// In the control plane's log writer thread the bundle runs the writer, not the CLI (see server/sessions/log-writer.ts).
if (isLogWriterThread()) void runLogWriterThread();
else runCli(createProgram);
