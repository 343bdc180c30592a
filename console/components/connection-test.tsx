/** Test Connection: runs one test through the gateway and says what it found, in the API's words. */
import { useState } from 'preact/hooks';
import type { ConnectionTestDto } from '../../protocol/api';
import { errorText } from '../api/console-api';

export function ConnectionTestButton({ run, label = 'Test connection' }: { run(): Promise<ConnectionTestDto>; label?: string }) {
  const [result, setResult] = useState<{ ok: boolean; text: string }>();
  const [busy, setBusy] = useState(false);
  async function test() {
    setBusy(true);
    setResult(undefined);
    try {
      const r = await run();
      setResult({ ok: r.ok, text: `${r.ok ? 'OK' : `Failed at ${r.stage}`} (${r.durationMs} ms): ${r.message}` });
    } catch (e) {
      setResult({ ok: false, text: errorText(e) });
    } finally {
      setBusy(false);
    }
  }
  return (
    <span class="connection-test">
      <button type="button" onClick={() => void test()} disabled={busy}>
        {busy ? 'Testing…' : label}
      </button>
      {result && <output class={result.ok ? 'ok' : 'failed'}>{result.text}</output>}
    </span>
  );
}
